"""A throwaway Postgres database per test session and a driver for bridge processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pg_admin import admin, storage_url

BRIDGE = Path(__file__).resolve().parent.parent / "optuna_bridge.py"


@pytest.fixture(scope="session")
def storage():
    database = f"wyolo_bridge_test_{os.getpid()}"
    admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{database}"')
    yield storage_url(database)
    admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


class Bridge:
    def __init__(self, url: str) -> None:
        env = {"PATH": os.environ.get("PATH", ""), "WYOLO_OPTUNA_STORAGE": url}
        self.proc = subprocess.Popen(
            [sys.executable, str(BRIDGE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.next_id = 0

    def raw(self, line: str) -> dict:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        assert answer, f"the bridge exited: {self.proc.stderr.read()}"
        return json.loads(answer)

    def send(self, op: str, **fields) -> dict:
        self.next_id += 1
        answer = self.raw(json.dumps({"id": self.next_id, "op": op, **fields}))
        assert answer["id"] == self.next_id
        return answer

    def call(self, op: str, **fields):
        answer = self.send(op, **fields)
        assert answer["ok"], answer
        return answer["result"]

    def close(self) -> int:
        self.proc.stdin.close()
        code = self.proc.wait(timeout=20)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


@pytest.fixture
def bridge(storage):
    b = Bridge(storage)
    yield b
    assert b.close() == 0


@pytest.fixture
def make_bridge(storage):
    made = []

    def make(url=None):
        b = Bridge(url or storage)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()
