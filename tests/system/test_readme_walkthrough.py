"""The README's walkthrough ("A first conversation with the API"), run as written.

Every `$ ` command of the section's console blocks is sent in order: `curl` calls become
requests to the app, `VAR=$(curl … | json field)` keeps a field of the answer, `CODE=…`
takes the code the development SMS sender just sent (as a reader takes it from the log)
and `nanyue create-admin` makes the admin. Whatever answer the README shows under a
command is compared with the real one: equal JSON, except that `…` leaves out the rest of
an object or the end of a string, and time stamps only need to be time stamps. Dates in
requests and answers move by the days since the README's answers were recorded, so the
walkthrough stays valid as time passes.
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import date, timedelta
from typing import Any

from service.accounts.services import create_admin
from service.accounts.sms import LogSmsSender, sender_of
from service.accounts.throttle import counter_of
from service.registry.domain import today_local
from service.settings import PROJECT_ROOT

SECTION = "## A first conversation with the API"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
DATE = re.compile(r"\b(20[2-9]\d-\d\d-\d\d)\b")
ELIDED = "\u2026"


def walkthrough() -> tuple[date, list[tuple[str, str]]]:
    """The section's recording date and its (command, shown answer) pairs, in order."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    recorded = date.fromisoformat(re.search(r"recorded on (\d{4}-\d\d-\d\d)", section).group(1))
    steps: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL):
        command: list[str] | None = None
        answer: list[str] = []
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("$ "):
                if command is not None:
                    steps.append(("\n".join(command), "\n".join(answer).strip()))
                command, answer = [line[2:]], []
                # Continue while the line ends in a backslash or a quote is still open.
                while command[-1].endswith("\\") or not _complete(" ".join(command)):
                    i += 1
                    command.append(lines[i])
            elif command is not None:
                answer.append(line)
            i += 1
        if command is not None:
            steps.append(("\n".join(command), "\n".join(answer).strip()))
    return recorded, steps


def _complete(command: str) -> bool:
    try:
        shlex.split(command, comments=True)
    except ValueError:
        return False
    return True


class Shell:
    """Just enough of a shell and of curl to run the walkthrough against the test client."""

    def __init__(self, client, shift: timedelta) -> None:
        self.client, self.shift = client, shift
        self.variables: dict[str, str] = {}
        self.last_code_phone: str | None = None
        self.last_answer = None

    def moved(self, text: str) -> str:
        return DATE.sub(lambda m: (date.fromisoformat(m.group(1)) + self.shift).isoformat(), text)

    async def run(self, command: str, shown: str, readme_section: str) -> None:
        command = self.moved(command.replace("\\\n", " "))
        if command.startswith("json() {"):
            assert not shown
            return
        if command.startswith(".venv/bin/nanyue create-admin"):
            phone = shlex.split(command, comments=True)[3]
            password = re.search(rf'"phone":"{phone}","password":"([^"]+)"', readme_section).group(1)
            self.client.blocking_portal.call(lambda: create_admin(phone=phone, password=password))
            return
        if assignment := re.fullmatch(r"(\w+)=\$\((.*)\|\s*json\s+(\w+)\)", command.strip(), flags=re.DOTALL):
            name, curl, field = assignment.groups()
            response = await self.curl(curl)
            assert response.is_success, (curl, response.text)
            self.variables[name] = str(response.json()[field])
            return
        if assignment := re.fullmatch(r"(\w+)=(\d+)\s*(#.*)?", command.strip()):
            sender = sender_of(self.client.app)
            assert isinstance(sender, LogSmsSender)
            code = sender.last_code(self.last_code_phone)
            assert code is not None, "no code was sent before the walkthrough reads one from the log"
            self.variables[assignment.group(1)] = code
            return
        assert command.startswith("curl "), f"the walkthrough test does not know how to run {command!r}"
        response = await self.curl(command)
        self.last_answer = response
        self.compare(command, shown, response)

    async def curl(self, command: str):
        command = re.sub(r"\$([A-Z][A-Z_]*)", lambda m: self.variables[m.group(1)], command)
        args = shlex.split(command, comments=True)
        assert args[0] == "curl"
        method, url, headers, body = None, None, {}, None
        i = 1
        while i < len(args):
            arg = args[i]
            if arg in ("-s", "-si", "-i"):
                pass
            elif arg == "-H":
                i += 1
                name, value = args[i].split(":", 1)
                headers[name.strip()] = value.strip()
            elif arg == "-d":
                i += 1
                body = args[i]
            elif arg == "-X":
                i += 1
                method = args[i]
            else:
                assert url is None, f"two URLs in {command!r}"
                url = arg
            i += 1
        assert url is not None and url.startswith("localhost:8000/"), url
        method = method or ("POST" if body is not None else "GET")
        path = url.removeprefix("localhost:8000")
        if path == "/api/v1/phone-codes":
            payload = json.loads(body)
            self.last_code_phone = payload["phone"]
            # A reader waits a minute between codes to the same phone; the test need not.
            throttle = counter_of(self.client.app)
            key = f"codes:minute:{payload['phone']}:{payload['purpose']}"
            self.client.blocking_portal.call(throttle.forget, key)
        return await self.client.request(method, path, headers=headers, content=body)

    def compare(self, command: str, shown: str, response) -> None:
        shown = self.moved(shown)
        if not shown:
            assert response.is_success, (command, response.status_code, response.text)
            return
        if shown.startswith("HTTP/"):
            head, _, shown = shown.partition("\n\n")
            status_line, *header_lines = head.splitlines()
            assert response.status_code == int(status_line.split()[1]), (command, response.text)
            for line in header_lines:
                name, value = (part.strip() for part in line.split(":", 1))
                if name.lower() == "x-request-id":
                    assert response.headers.get(name)
                else:
                    assert response.headers.get(name) == value, (command, name, response.headers.get(name))
        else:
            assert response.is_success, (command, response.status_code, response.text)
        expected = json.loads(re.sub(rf",\s*{ELIDED}\s*}}", f',"{ELIDED}":true}}', shown))
        mismatch = _mismatch(expected, response.json(), "")
        assert mismatch is None, f"{command}\n{mismatch}\nanswer: {response.text}"


def _mismatch(expected: Any, actual: Any, where: str) -> str | None:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}: expected an object, got {actual!r}"
        partial = expected.pop(ELIDED, False)
        if not partial and set(expected) != set(actual):
            return f"{where}: fields {sorted(expected)} shown, {sorted(actual)} answered"
        for key, value in expected.items():
            if key not in actual:
                return f"{where}.{key}: missing"
            if found := _mismatch(value, actual[key], f"{where}.{key}"):
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            return f"{where}: expected {expected!r}, got {actual!r}"
        for i, (one, other) in enumerate(zip(expected, actual, strict=True)):
            if found := _mismatch(one, other, f"{where}[{i}]"):
                return found
        return None
    if isinstance(expected, str) and isinstance(actual, str):
        if TIMESTAMP.match(expected):
            return None if TIMESTAMP.match(actual) else f"{where}: {actual!r} is not a time stamp"
        if expected.endswith(ELIDED):
            return None if actual.startswith(expected[:-1]) else f"{where}: {actual!r} does not start {expected!r}"
    if type(expected) is not type(actual) or expected != actual:
        return f"{where}: expected {expected!r}, got {actual!r}"
    return None


def test_the_walkthrough_sets_every_variable_before_using_it():
    _, steps = walkthrough()
    assigned: set[str] = set()
    for command, _ in steps:
        used = set(
            re.findall(r"\$([A-Z][A-Z_]*)", command.split("=", 1)[-1] if re.match(r"\w+=", command) else command)
        )
        assert used <= assigned, f"{command!r} uses {sorted(used - assigned)} before setting it"
        if name := re.match(r"(\w+)=", command):
            assigned.add(name.group(1))


async def test_the_readme_walkthrough_answers_as_shown(client):
    recorded, steps = walkthrough()
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    shell = Shell(client, today_local() - recorded)
    assert len(steps) >= 20
    for command, shown in steps:
        await shell.run(command, shown, section)
    assert {"ADMIN", "KEY", "WORKER", "EMPLOYER", "CODE"} <= set(shell.variables)
    # The walkthrough ends with the matches; the Matching section shows a copy of the first.
    assert shell.last_answer.url.path == "/api/v1/job-requests/1/matches"
    matching = readme.split("\n## Matching\n", 1)[1].split("\n## ", 1)[0]
    copy = matching.split("A match, as the household sees it", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(copy) == shell.last_answer.json()["items"][0]
