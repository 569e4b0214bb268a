"""The console's full-screen view on a terminal (curses): the link's status and the
state, the latest housekeeping (value, unit, limit colour and why), flight's own figures
(OPS: scoop, water, hydrogen and oxygen, energy, power cap, stored-sequence progress), the
last events and telecommands, a message line and a command prompt. Redrawn every second,
and at once on a key, a verification or a state change.

Keys: Enter sends the line, Tab completes a command name, Up/Down recall earlier lines,
Ctrl-U or Esc clears the line, Ctrl-C (or ``quit``) leaves.
"""

from __future__ import annotations

import curses
import selectors
import sys
import textwrap
from typing import Any

from flight.commands import CommandError
from flight.tmtc.layout import HK, LINK
from ground.tmtc.command_line import complete, help_lines, parse_command, parse_upload
from ground.tmtc.limits import NONE, OK, RED, YELLOW, LimitTable
from ground.tmtc.link import (
    GroundLink,
    Notice,
    Telecommand,
    event_fields,
    format_value,
    ops_lines,
)

EXIT_OK = 0
REDRAW_S = 1.0
#: no telemetry for this long (wall seconds): the header says so in red
SILENT_S = 3.0
MIN_EVENT_ROWS, MIN_TC_ROWS, TC_ROWS = 3, 2, 6
_LEFT = [f.name for f in HK.fields[1:] if not f.name.startswith("cmd_")]
_RIGHT = [f.name for f in HK.fields[1:] if f.name.startswith("cmd_")]
_HK_NAMES = frozenset(f.name for f in HK.fields)
_UNITS = {f.name: f.unit for f in (*HK.fields, *LINK.fields)}
_ENTER = ("\n", "\r", curses.KEY_ENTER)
_BACKSPACE = ("\x7f", "\b", curses.KEY_BACKSPACE)


def _last(items: list[Any], n: int) -> list[Any]:
    """The last ``n`` items (none when ``n`` <= 0: a short terminal)."""
    return items[len(items) - n:] if n > 0 else []


def run_screen(link: GroundLink, limits: LimitTable, timeout_s: float) -> int:
    """Run the full-screen console until ``quit``; returns the exit code.

    Raises:
        KeyboardInterrupt: Ctrl-C (the terminal is restored first).
    """
    return int(curses.wrapper(lambda scr: Screen(scr, link, limits, timeout_s).loop()))


class Screen:
    """The view and the prompt over one :class:`GroundLink`."""

    def __init__(self, scr: Any, link: GroundLink, limits: LimitTable,
                 timeout_s: float) -> None:
        self.scr = scr
        self.link = link
        self.limits = limits
        self.timeout_s = timeout_s
        self.line = ""
        self.history: list[str] = []
        self.hist_at = 0
        self.message: list[tuple[str, int]] = [("type a command ('help' lists them)", 0)]
        self.quit = False
        self.colours = {OK: 0, NONE: 0, RED: 0, YELLOW: 0, "green": 0, "head": 0}
        if curses.has_colors():
            curses.start_color()
            curses.use_default_colors()
            for i, (name, c) in enumerate([(RED, curses.COLOR_RED),
                                           (YELLOW, curses.COLOR_YELLOW),
                                           ("green", curses.COLOR_GREEN),
                                           ("head", curses.COLOR_CYAN)], start=1):
                curses.init_pair(i, c, -1)
                self.colours[name] = curses.color_pair(i)
            self.colours[RED] |= curses.A_BOLD

    # ---- the loop ------------------------------------------------------------------------

    def loop(self) -> int:
        scr, link, clock = self.scr, self.link, self.link.clock
        scr.nodelay(True)
        scr.keypad(True)
        sel = selectors.DefaultSelector()
        sel.register(link.fileno(), selectors.EVENT_READ, "tm")
        sel.register(sys.stdin.fileno(), selectors.EVENT_READ, "keys")
        next_draw, dirty = 0.0, True
        try:
            while not self.quit:
                now = clock.now_s()
                if dirty or now >= next_draw:
                    self.draw()
                    link.flush()
                    next_draw, dirty = now + REDRAW_S, False
                for key, _ in sel.select(max(0.0, min(REDRAW_S, next_draw - now))):
                    if key.data == "tm":
                        notices = link.receive()
                        dirty |= any(n.kind in ("STATE", "VERIFY") for n in notices)
                    else:
                        dirty |= self.keys()
                dirty |= bool(link.expire(self.timeout_s))
                dirty |= self.show(link.pump())
        finally:
            sel.close()
        return EXIT_OK

    def keys(self) -> bool:
        """Take the keys waiting; whether any came."""
        got = False
        while True:
            try:
                ch = self.scr.get_wch()
            except curses.error:
                return got
            got = True
            self.key(ch)

    def key(self, ch: str | int) -> None:
        if ch in _ENTER:
            text, self.line = self.line.strip(), ""
            if text:
                self.history.append(text)
                self.hist_at = len(self.history)
                self.submit(text)
        elif ch in _BACKSPACE:
            self.line = self.line[:-1]
        elif ch in ("\x15", "\x1b"):
            self.line = ""
        elif ch == "\t" and " " not in self.line:
            self.line = complete(self.line)
        elif ch in (curses.KEY_UP, curses.KEY_DOWN) and self.history:
            step = -1 if ch == curses.KEY_UP else 1
            self.hist_at = max(0, min(len(self.history), self.hist_at + step))
            self.line = self.history[self.hist_at] if self.hist_at < len(self.history) else ""
        elif isinstance(ch, str) and ch.isprintable():
            self.line += ch

    def submit(self, text: str) -> None:
        word = text.split()[0].lower()
        if word in ("quit", "exit"):
            self.quit = True
            return
        try:
            if word == "upload":
                up = parse_upload(text)
                self.message = [(up.line(), 0)]
                self.show(self.link.send_batch(f"upload {up.path}", up.commands))
                return
            if word == "help":
                width = max(20, self.scr.getmaxyx()[1] - 1)
                self.message = [(s, 0) for line in help_lines(text[4:].strip())
                                for s in textwrap.wrap(line, width, subsequent_indent="  ")]
                return
            name, args = parse_command(text)
        except CommandError as exc:
            self.message = [(f"refused: {exc} (not sent)", self.colours[RED])]
            return
        n = self.link.send(name, args)
        self.message = [(n.line, self.colours[RED] if n.kind == "REFUSED" else 0)]

    def show(self, notices: list[Notice]) -> bool:
        """Put ``notices`` (a batch's) on the message line; whether there were any."""
        if notices:
            self.message = [(n.line, self.colours[RED] if n.kind == "REFUSED" else 0)
                            for n in notices]
        return bool(notices)

    # ---- drawing -------------------------------------------------------------------------

    def put(self, y: int, x: int, text: str, attr: int = 0) -> None:
        h, w = self.scr.getmaxyx()
        if 0 <= y < h and 0 <= x < w:
            try:
                self.scr.addnstr(y, x, text, w - x, attr)
            except curses.error:  # the bottom-right cell
                pass

    def draw(self) -> None:
        scr, link = self.scr, self.link
        scr.erase()
        h, w = scr.getmaxyx()
        self.header(w)
        msg = self.message[: max(1, min(4, h // 8))]
        bottom = h - 1 - len(msg)  # the first row of the message
        left = _LEFT
        right = _RIGHT + ([""] + [f.name for f in LINK.fields] if link.link else [])
        two = w >= 96
        rows = max(len(left), len(right)) if two else len(left) + len(right)
        ops = ops_lines(link.ops)
        # the table first; then the OPS block, at least MIN_EVENT_ROWS events and
        # MIN_TC_ROWS commands
        table_rows = max(1, min(rows, bottom - 2 - (3 + MIN_EVENT_ROWS + MIN_TC_ROWS)
                                - (len(ops) + 1 if ops else 0)))
        cw = w // 2 if two else w
        self.put(1, 0, self.cell_head(cw), self.colours["head"])
        if two:
            self.put(1, cw, self.cell_head(cw), self.colours["head"])
        cells = [(i, 0, n) for i, n in enumerate(left)]
        cells += [(i, cw, n) if two else (len(left) + i, 0, n) for i, n in enumerate(right)]
        for i, x, name in cells:
            if i < table_rows and name:
                self.cell(2 + i, x, cw, name)
        y = 3 + table_rows
        if ops:
            self.put(y, 0, "ops", self.colours["head"])
            for i, text in enumerate(ops):
                self.put(y + i, 5, text)
            y += len(ops) + 1
        self.put(y, 0, "events", self.colours["head"])
        n_tcs = min(TC_ROWS, max(1, len(link.recent)))
        for e in _last(list(link.events), bottom - y - 3 - n_tcs):
            y += 1
            colour = self.colours[YELLOW] if e["severity"] == "warning" else 0
            self.put(y, 0, f"t={e['t_s']:9.1f}  {e['event']:<15} {event_fields(e)}", colour)
        y += 2
        self.put(y, 0, "telecommands", self.colours["head"])
        for tc in _last(list(link.recent), min(TC_ROWS, bottom - y - 1)):
            y += 1
            self.telecommand(y, tc)
        for i, (text, attr) in enumerate(msg):
            self.put(bottom + i, 0, text, attr)
        prompt = "> " + self.line
        self.put(h - 1, 0, prompt[-(w - 1):])
        scr.move(h - 1, min(len(prompt), w - 1))
        scr.refresh()

    def header(self, w: int) -> None:
        link = self.link
        tm, tc = link.tm_endpoint, link.tc_endpoint
        self.put(0, 0, " " * w, curses.A_REVERSE)
        state = link.state or "no telemetry yet"
        colour = self.colours[RED] if state == "SAFE" else self.colours["green"]
        silent = None if link.last_tm_s is None else link.clock.now_s() - link.last_tm_s
        t = "" if link.t_s is None else f"t={link.t_s:.1f} s"
        parts = [(" thermine ground ", curses.A_REVERSE),
                 (f" {state} ", colour | curses.A_REVERSE | curses.A_BOLD),
                 (f"  {t}  ", curses.A_REVERSE)]
        if silent is not None and silent > SILENT_S:
            parts.append((f" TM silent {silent:.0f} s ", self.colours[RED] | curses.A_REVERSE))
        parts.append((f"  TM udp://{tm.host}:{tm.port} ({link.packets} packets, {link.bad} "
                      f"bad)  TC udp://{tc.host}:{tc.port}", curses.A_REVERSE))
        x = 0
        for text, attr in parts:
            self.put(0, x, text, attr)
            x += len(text)

    @staticmethod
    def cell_head(cw: int) -> str:
        return f"{'channel':<27}{'value':>12} {'unit':<6}{'limits':<{max(0, cw - 47)}}"

    def cell(self, y: int, x: int, cw: int, name: str) -> None:
        src = self.link.hk if name in _HK_NAMES else self.link.link
        value = None if src is None else src.get(name)
        colour, why = self.limits.check(name, value, self.link.state)
        attr = self.colours.get(colour, 0)
        self.put(y, x, f"{name:<27}")
        self.put(y, x + 27, f"{format_value(value):>12}", attr)
        self.put(y, x + 40, f"{_UNITS.get(name, ''):<6}")
        note = why if colour in (RED, YELLOW) else self.limits.bounds(name)
        self.put(y, x + 46, note[: max(0, cw - 47)], attr if why else curses.A_DIM)

    def telecommand(self, y: int, tc: Telecommand) -> None:
        self.put(y, 0, f"#{tc.seq:<5}{tc.text()[:40]:<41}")
        x = 47
        for stage, reason, _t in tc.stages:
            colour = {"completed": "green", "rejected": RED, "failed": RED}.get(stage, OK)
            text = stage + ("" if reason == "ok" else f" ({reason})")
            self.put(y, x, text, self.colours[colour])
            x += len(text) + 3
        if tc.timed_out:
            self.put(y, x, f"no answer after {self.timeout_s:g} s", self.colours[RED])
        elif not tc.final:
            self.put(y, x, "waiting...", curses.A_DIM)
