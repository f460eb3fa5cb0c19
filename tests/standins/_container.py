"""One container of a stand-in image with its port published on loopback and its data on a named
volume, a bounded readiness wait, and cleanup. Each test module subclasses StandInContainer and
names it StandIn; the fixtures in conftest.py use that class."""

import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=120)


class StandInContainer:
    PRODUCT = ""      # for names and messages: "minio", "grafana"
    IMAGE = ""
    PORT = 0          # the port published on loopback
    DATA = ""         # where the volume is mounted
    READY_PATH = ""   # answers 200 without credentials once the server is ready
    ARGS = ()         # arguments after the image
    DEFAULT_ENV = {}

    def __init__(self, volume, env=None, mounts=(), network=None):
        self.name = f"microops-standin-{self.PRODUCT}-{uuid.uuid4().hex[:8]}"
        self.volume = volume
        self.env = env if env is not None else dict(self.DEFAULT_ENV)
        self.mounts = mounts
        self.network = network
        self.base = None

    def run(self, wait=True):
        args = ["run", "-d", "--name", self.name, "-p", f"127.0.0.1::{self.PORT}", "-v", f"{self.volume}:{self.DATA}"]
        if self.network:
            args += ["--network", self.network]
        for key, value in self.env.items():
            args += ["-e", f"{key}={value}"]
        for mount in self.mounts:
            args += ["-v", mount]
        docker(*args, self.IMAGE, *self.ARGS)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self):
        port = docker("port", self.name, f"{self.PORT}/tcp").stdout.split(":")[-1].strip()
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.base + self.READY_PATH, timeout=5) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{self.PRODUCT} stand-in not ready within 30 s:\n{self.logs()}")
            time.sleep(0.3)

    def restart(self):
        docker("restart", "-t", "10", self.name)
        self.wait_ready()

    def logs(self):
        result = docker("logs", self.name, check=False)
        return result.stdout + result.stderr

    def remove(self):
        docker("rm", "-f", self.name, check=False)
