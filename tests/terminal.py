"""Run a program in a pseudo-terminal and read its screen as a person would see it.

``run_in_terminal`` gives the program a real terminal (a pty of a given size) on stdin, stdout and
stderr, and records everything it writes. ``Screen`` replays that through a small terminal model:
carriage return, newline and erase-to-end-of-line, the controls a progress bar uses. Its ``lines``
are what is left on screen at the end; ``states`` every state a redrawn line went through.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time

CONTROL = re.compile(r"(\r|\n|\x1b\[K|\x1b\[[0-9;?]*[A-Za-z])")


def run_in_terminal(argv: list[str], env: dict[str, str], timeout: float = 120, columns: int = 120,
                    rows: int = 40) -> tuple[int, str]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env={**env, "TERM": "xterm",
                               "COLUMNS": str(columns)}, close_fds=True, start_new_session=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the program exited and closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif process.poll() is not None:
                break
        else:
            process.kill()
            raise TimeoutError(f"{argv} still running after {timeout} s")
    finally:
        os.close(master)
    return process.wait(timeout=10), b"".join(chunks).decode(errors="replace")


class Screen:
    def __init__(self, output: str) -> None:
        self.lines: list[str] = []
        self.states: list[str] = []
        line: list[str] = []
        column = 0
        for token in CONTROL.split(output):
            if token == "\r":
                column = 0
            elif token == "\n":
                self.lines.append("".join(line))
                line, column = [], 0
            elif token == "\x1b[K":
                del line[column:]
                self.states.append("".join(line))
            elif token.startswith("\x1b"):
                raise AssertionError(f"unexpected control sequence {token!r}")
            elif token:
                for char in token:
                    if column < len(line):
                        line[column] = char
                    else:
                        line.append(char)
                    column += 1
        if line:
            self.lines.append("".join(line))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)
