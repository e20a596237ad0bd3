"""Text from AWS or a container made safe to print on an operator's terminal."""

from __future__ import annotations

import re

# Terminal control a log line or an AWS message could carry: CSI (colours, cursor moves,
# screen clears), OSC (window titles, hyperlinks, clipboard writes), other two-byte ESC
# sequences, and C0/C1 control characters except tab (ECMA-48).
TERMINAL_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, ended by BEL or ST (or cut off)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[@-Z\\-_]?"  # other ESC sequences (and a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|[\x00-\x08\x0a-\x1f\x7f-\x9f]"  # remaining control characters (tab kept)
)


def printable(text: str) -> str:
    """`text` without terminal escape sequences or control characters (safe to print)."""
    return TERMINAL_ESCAPE.sub("", text)
