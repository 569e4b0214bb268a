"""What every layer shares: the schema mechanism, ConfigError, the clocks, the dictionary."""
