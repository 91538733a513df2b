"""Processes that evaluate SPARQL must not be able to call out, whatever a query says.

The parse check refuses SERVICE before a query runs; this is the second barrier. Two ways, the
strongest the kernel allows: a network namespace of its own (only a loopback that is down: used for
the embedded engine's query workers, which talk to the register over a pipe), and a seccomp filter
that refuses `connect` (and io_uring, which could connect without it) to every thread of the
process and whatever it execs: used for the store server, which must keep listening for the register
but never needs to open a connection itself.
"""

from __future__ import annotations

import ctypes
import errno
import logging

log = logging.getLogger(__name__)

CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000


def leave_network() -> bool:
    """A new network namespace (as root; otherwise inside an unprivileged user namespace).
    False where the kernel allows neither."""
    libc = ctypes.CDLL(None, use_errno=True)
    return any(libc.unshare(flags) == 0 for flags in (CLONE_NEWNET, CLONE_NEWUSER | CLONE_NEWNET))


def forbid_connections() -> bool:
    """From now on this process (and a program it execs) gets EPERM for every `connect`; listening
    and accepting keep working. False where seccomp is not available (no libseccomp, not Linux)."""
    try:
        import pyseccomp as seccomp

        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)  # sets no_new_privs, so it survives exec
        for call in ("connect", "io_uring_setup"):
            rules.add_rule(seccomp.ERRNO(errno.EPERM), call)
        rules.load()
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means: not sandboxed, say so and go on
        log.warning("seccomp niet beschikbaar (%s): alleen de controle van de query houdt SERVICE tegen", exc)
        return False


def isolate() -> bool:
    """Take this process off the network: its own namespace, else no connections at all."""
    return leave_network() or forbid_connections()
