#!/usr/bin/env python3
"""Checks the carry folder's archives against MANIFEST.json and unpacks them (bench/gpu/device.sh).

  python3 bench/gpu/unpack.py CARRY_DIR DEST_DIR

Unpacks runtime.tar.xz (bin/node, node_modules/) and app.tar.xz (out/) into DEST_DIR; a runtime already unpacked
there from the same archive is kept. Standard library only (lzma, tarfile): the GPU machine may lack xz.
"""
import hashlib
import json
import os
import sys
import tarfile
import time


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def extract(archive, dest):
    with tarfile.open(archive, "r:xz") as tar:
        try:
            tar.extractall(dest, filter="tar")
        except TypeError:  # Python without extraction filters
            tar.extractall(dest)


def main():
    carry, dest = sys.argv[1], sys.argv[2]
    with open(os.path.join(carry, "MANIFEST.json")) as f:
        manifest = json.load(f)
    os.makedirs(dest, exist_ok=True)
    for name, info in (("runtime.tar.xz", manifest["runtime"]), ("app.tar.xz", manifest["app"])):
        archive = os.path.join(carry, name)
        t = time.perf_counter()
        digest = sha256(archive)
        if digest != info["sha256"]:
            raise SystemExit(f"unpack: {archive} does not match MANIFEST.json (sha256 {digest}, expected {info['sha256']}): run node bench/gpu/pack.mjs again")
        marker = os.path.join(dest, f".{name}.sha256")
        if name == "runtime.tar.xz" and os.path.exists(marker) and open(marker).read().strip() == digest:
            print(f"unpack: {name} already unpacked in {dest}")
            continue
        extract(archive, dest)
        with open(marker, "w") as f:
            f.write(digest + "\n")
        print(f"unpack: {name} ({os.path.getsize(archive) / 2**20:.1f} MiB) checked and unpacked into {dest} in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
