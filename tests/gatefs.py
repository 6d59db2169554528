#!/usr/bin/python3
"""gatefs - a FUSE pass-through file system whose I/O waits at a gate.

    gatefs.py BACKING MOUNT CONTROL

Mirrors BACKING at MOUNT.  While the file CONTROL/closed exists, every read,
write, truncate, fsync and create of a file whose name starts with "gate"
waits (in the file system, so the kernel request stays pending) until the
file is removed; so does every lookup, getattr and open of a file whose name
starts with "gatemeta" (an open or a stat stuck in the file system), and
every lookup and getattr (stat) of a file whose name starts with "gatestat"
(only those: every other gate* file must stay reachable by path while the
gate is closed).  A service-made temporary file (".ovio-tmp-" and random
hex: FUSE has no O_TMPFILE, so oviod names it) counts as a "gate" file.  CONTROL/waiting always holds how many operations are
waiting at the gate, so a test knows when its I/O is really pending.

This makes "pending" real for regular-file I/O in tests: a FIFO can only do
that for streams.  Runs in the foreground; unmount (umount MOUNT) to stop.
"""
import errno
import os
import sys
import threading
import time

try:  # Debian's python3-fusepy names the module fusepy
    from fusepy import FUSE, FuseOSError, Operations
except ImportError:
    from fuse import FUSE, FuseOSError, Operations


class Gate:
    def __init__(self, control):
        self.closed_path = os.path.join(control, "closed")
        self.waiting_path = os.path.join(control, "waiting")
        self.lock = threading.Lock()
        self.waiting = 0
        self.publish()

    def publish(self):
        tmp = self.waiting_path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % self.waiting)
        os.replace(tmp, self.waiting_path)

    def wait(self, name, prefix="gate"):
        base = os.path.basename(name)
        if not (base.startswith(prefix)
                or (prefix == "gate" and base.startswith(".ovio-tmp-"))):
            return
        if not os.path.exists(self.closed_path):
            return
        with self.lock:
            self.waiting += 1
            self.publish()
        try:
            while os.path.exists(self.closed_path):
                time.sleep(0.002)
        finally:
            with self.lock:
                self.waiting -= 1
                self.publish()


class GateFS(Operations):
    def __init__(self, backing, gate):
        self.backing = backing
        self.gate = gate

    def _p(self, path):
        return os.path.join(self.backing, path.lstrip("/"))

    def getattr(self, path, fh=None):
        self.gate.wait(path, "gatemeta")
        self.gate.wait(path, "gatestat")
        st = os.lstat(self._p(path))
        return {k: getattr(st, k) for k in (
            "st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime",
            "st_nlink", "st_size", "st_uid")}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._p(path))

    def access(self, path, mode):
        if not os.access(self._p(path), mode):
            raise FuseOSError(errno.EACCES)

    def chmod(self, path, mode):
        os.chmod(self._p(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._p(path), uid, gid)

    def mkdir(self, path, mode):
        os.mkdir(self._p(path), mode)

    def rmdir(self, path):
        os.rmdir(self._p(path))

    def unlink(self, path):
        os.unlink(self._p(path))

    def rename(self, old, new):
        os.rename(self._p(old), self._p(new))

    def utimens(self, path, times=None):
        os.utime(self._p(path), times)

    def statfs(self, path):
        st = os.statvfs(self._p(path))
        return {k: getattr(st, k) for k in (
            "f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail",
            "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")}

    def open(self, path, flags):
        self.gate.wait(path, "gatemeta")
        return os.open(self._p(path), flags)

    def create(self, path, mode, fi=None):
        self.gate.wait(path)
        return os.open(self._p(path), os.O_RDWR | os.O_CREAT, mode)

    def read(self, path, length, offset, fh):
        self.gate.wait(path)
        return os.pread(fh, length, offset)

    def write(self, path, buf, offset, fh):
        self.gate.wait(path)
        return os.pwrite(fh, buf, offset)

    def truncate(self, path, length, fh=None):
        self.gate.wait(path)
        if fh is not None:
            os.ftruncate(fh, length)
        else:
            os.truncate(self._p(path), length)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        self.gate.wait(path)
        os.fsync(fh)

    def release(self, path, fh):
        os.close(fh)


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: gatefs.py BACKING MOUNT CONTROL\n")
        return 2
    backing, mount, control = sys.argv[1:]
    gate = Gate(control)
    # direct_io: every read and write reaches us (no page cache), so the
    # gate holds the kernel request itself.
    FUSE(GateFS(backing, gate), mount, foreground=True, nothreads=False,
         direct_io=True, attr_timeout=0, entry_timeout=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
