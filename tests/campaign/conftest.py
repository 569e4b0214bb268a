"""The campaign tests see one code version for the whole session.

Other engineers edit the source while the suite runs; a campaign resumed within a test
would otherwise be refused as "flown by other code" whenever a file was saved between
its two halves. The real :func:`ground.campaign.version.code_version` is computed once
and pinned; tests of the function itself import it before this fixture runs, and tests
of a code change patch it themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ground.campaign import version


@pytest.fixture(scope="session", autouse=True)
def pinned_code_version() -> Iterator[dict[str, str]]:
    real = version.code_version()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(version, "code_version", lambda: dict(real))
        yield real
