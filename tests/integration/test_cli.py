"""The ``crm`` command line as a user meets it: versions, help, exit codes, and no traceback or
secret in its output whatever the input. Runs ``overlay.cli.main`` in process against a sandbox."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from crm_client.api_versions import VERSIONS

import overlay
from overlay import cli
from overlay.cli import query as cli_query

SECRET = "sk_SECRETzz9"  # the part of each malformed key that must never be printed


@pytest.fixture(scope="module")
def sandbox() -> Iterator[overlay.Sandbox]:
    with overlay.Sandbox(seed_data=True, read_rate=None, write_rate=None) as sb:
        yield sb


@pytest.fixture
def env(sandbox: overlay.Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The sandbox as CRM_API_KEY and CRM_BASE_URL; the working folder is ``tmp_path``."""
    monkeypatch.setenv("CRM_API_KEY", sandbox.token)
    monkeypatch.setenv("CRM_BASE_URL", sandbox.url)
    monkeypatch.delenv("CRM_VERSION", raising=False)
    monkeypatch.delenv("CRM_WEBHOOK_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "people.csv").write_text("Name,Email\nAda Lovelace,ada@analytical.example\n")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_clean_line(err: str, prog: str) -> None:
    assert "Traceback" not in err and 'File "' not in err, err
    assert err.startswith(f"{prog}: ") and err.count("\n") == 1, err


def people_count(sandbox: overlay.Sandbox) -> int:
    return sandbox.client.records("people").where().count()


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from parsers(child)


def test_version_prints_the_sdk_version_and_the_api_version_it_speaks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRM_VERSION", raising=False)
    code, out, err = run(capsys, "--version")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == f"crm-sdk {metadata.version('crm-sdk')}"
    assert f"API version {VERSIONS[-1]} by default" in out
    monkeypatch.setenv("CRM_VERSION", VERSIONS[0])
    assert f"API version {VERSIONS[0]} (from CRM_VERSION" in run(capsys, "--version")[1]


def test_every_command_group_alone_prints_its_subcommands_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    groups = 0
    for parser in parsers(cli.build_parser()):
        subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subcommands:
            continue
        groups += 1
        code, out, err = run(capsys, *parser.prog.split()[1:])
        assert code == 0 and err == "", (parser.prog, err)
        assert out.startswith(f"usage: {parser.prog} ")
        for name in subcommands[0].choices:
            assert f"    {name} " in out or f"    {name}\n" in out, (parser.prog, name)
    assert groups >= 2  # crm itself and crm webhooks


def test_every_option_argument_and_command_has_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    missing = []
    for parser in parsers(cli.build_parser()):
        for action in parser._actions:
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{parser.prog}: {'/'.join(action.option_strings) or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{parser.prog} {c.dest}" for c in action._choices_actions if not c.help]
        assert run(capsys, *parser.prog.split()[1:], "--help")[0] == 0  # every help renders
    assert missing == []


@pytest.mark.parametrize(
    "how", [["--ignore-unmapped"], ["--ignore", "Foo", "--ignore", "Bar"]], ids=["unmapped", "ignored"]
)
def test_an_import_whose_columns_are_all_ignored_exits_2_naming_the_file(
    env: Path, sandbox: overlay.Sandbox, capsys: pytest.CaptureFixture[str], how: list[str]
) -> None:
    (env / "odd.csv").write_text("Foo,Bar\n1,2\n3,4\n")
    before = people_count(sandbox)
    code, out, err = run(capsys, "import", "odd.csv", "--object", "people", "--quiet", *how)
    assert code == 2 and out == ""
    assert_one_clean_line(err, "crm import")
    assert "odd.csv" in err and "no column maps" in err
    assert people_count(sandbox) == before


def test_import_exits_2_on_bad_input_and_1_with_the_request_id_when_the_api_refuses(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, fragment in [
        (["missing.csv", "--object", "people"], "missing.csv"),
        (["people.csv", "--object", "people", "--map", "garbage"], "--map"),
        (["people.csv", "--object", "people", "--map", "Email=emial_addresses"], "people.csv"),
        (["people.csv", "--object", "people", "--journal", "no/such/dir/j"], "--journal"),
    ]:
        code, out, err = run(capsys, "import", *argv, "--quiet")
        assert code == 2 and fragment in err and out == "", (argv, err)
        assert_one_clean_line(err, "crm import")
    code, _, err = run(capsys, "import", "people.csv", "--object", "nope", "--quiet")
    assert code == 1 and "404" in err and "(request req_" in err
    assert_one_clean_line(err, "crm import")


@pytest.mark.parametrize(
    "key",
    [f"{SECRET}\n", f"{SECRET} \n", f"{SECRET}\x00x", f"{SECRET}é", f"{SECRET}\x7f", f"\t{SECRET}\r\n"],
    ids=["newline", "space-newline", "nul", "non-ascii", "del", "crlf"],
)
@pytest.mark.parametrize(
    "argv",
    [
        ["query", "people", "--json"],
        ["import", "people.csv", "--object", "people", "--quiet"],
        ["export", "people", "-o", "out.csv", "--quiet"],
    ],
    ids=lambda argv: argv[0],
)
def test_a_malformed_api_key_gives_one_line_that_never_shows_the_key(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, key: str, argv: list[str]
) -> None:
    if "\x00" in key:  # a process environment cannot hold a NUL; the client reads os.environ
        monkeypatch.setattr(os, "environ", {**os.environ, "CRM_API_KEY": key})
    else:
        monkeypatch.setenv("CRM_API_KEY", key)
    code, out, err = run(capsys, *argv)
    assert code in (1, 2), (out, err)
    assert SECRET not in out + err and "SECRETzz" not in out + err
    assert_one_clean_line(err, f"crm {argv[0]}")


def test_query_json_keeps_to_the_columns_and_carries_the_included_records(
    env: Path, sandbox: overlay.Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["query", "people", "--where", "company is set", "--limit", "3", "--json"]
    code, out, err = run(capsys, *argv, "--columns", "name,company", "--include", "company")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and lines and err == ""
    companies = sandbox.client.records("companies")
    for line in lines:
        assert set(line["values"]) <= {"name", "company"} and "company" in line["values"]
        (target,) = line["values"]["company"]
        (included,) = line["included"]["company"]
        assert included["id"]["record_id"] == target["target_record_id"]
        stored = companies.get(target["target_record_id"]).to_dict()
        assert included["values"]["name"] == stored["values"]["name"]
    code, out, _ = run(capsys, *argv)
    whole = json.loads(out.splitlines()[0])
    assert code == 0 and "included" not in whole and len(whole["values"]) > 2


def test_a_reader_that_leaves_the_pipe_early_ends_the_query_quietly(env: Path) -> None:
    """``crm query people | head -1``: the reader is gone before the output is written."""
    command = [sys.executable, "-m", "overlay.cli", "query", "people", "--json"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as head does once it has its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141 and err == ""


def test_an_object_that_is_not_valid_text_is_named_as_the_object(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "query", "peo\udcffple")  # what argv holds for the bytes peo\xffple
    assert code == 2 and out == ""
    assert "the path parameter 'object' holds a lone surrogate at position 3" in err
    assert_one_clean_line(err, "crm query")


def test_debug_logs_of_a_cli_run_never_show_the_key(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_LOG", "debug")
    for key in (f"{SECRET}\n", f"{SECRET}é"):
        monkeypatch.setenv("CRM_API_KEY", key)
        code, out, err = run(capsys, "query", "people", "--json", "--limit", "1")
        assert code in (1, 2) and "Traceback" not in err
        assert SECRET not in out + err + caplog.text


def test_an_unexpected_error_is_one_line_without_a_traceback_or_a_secret(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = f"{SECRET}\n"
    monkeypatch.setenv("CRM_API_KEY", key)
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", "whsec_c2VjcmV0U0VDUkVUc2VjcmV0")

    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError(f"header {key!r}, {key.encode()!r}, {key.strip()}, whsec_c2VjcmV0U0VDUkVUc2VjcmV0")

    monkeypatch.setattr(cli_query, "run_query", broken)
    code, _, err = run(capsys, "query", "people")
    assert code == 1 and "unexpected RuntimeError" in err
    assert SECRET not in err and "whsec_" not in err
    assert_one_clean_line(err, "crm query")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "argv",
    [
        ["query", "people", "--json"],
        ["import", "people.csv", "--object", "people", "--quiet"],
        ["export", "people", "-o", "out.csv", "--quiet"],
    ],
    ids=lambda argv: argv[0],
)
def test_an_unreachable_base_url_exits_1_in_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setenv("CRM_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert_one_clean_line(err, f"crm {argv[0]}")
    monkeypatch.delenv("CRM_BASE_URL")
    code, _, err = run(capsys, *argv)
    assert code == 2 and "CRM_BASE_URL" in err
    assert_one_clean_line(err, f"crm {argv[0]}")


def test_bad_input_to_every_command_exits_non_zero_with_a_message_and_no_traceback(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (env / "folder").mkdir()
    (env / "tasks.jsonl").write_text('{"id": 1}\n')
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    busy = str(taken.getsockname()[1])
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    cases = [
        (["query", "people", "--columns", "nmae"], "crm query", "Did you mean 'name'"),
        (["query", "people", "--where", "nmae = 'x'"], "crm query", "nmae"),
        (["import", "folder", "--object", "people", "--quiet"], "crm import", "folder"),
        (["export", "people", "-o", "no/such/dir/out.csv"], "crm export", "--output"),
        (["export", "people", "-o", "out.csv", "--state", "no/such/s.json"], "crm export", "--state"),
        (["export", "people", "-o", "out.csv", "--flatten-column", "name"], "crm export", "SLUG=MODE"),
        (["export", "people", "-o", "out.weird"], "crm export", "out.weird"),
        (["migrate", "folder", "--schema", "Task", "--from", VERSIONS[0]], "crm migrate", "folder"),
        (
            ["migrate", "tasks.jsonl", "--schema", "Task", "--from", VERSIONS[0], "-o", "no/such/x"],
            "crm migrate",
            "no/such/x",
        ),
        (["migrate", "tasks.jsonl", "--schema", "Task", "--from", "1999-01-01"], "crm migrate", "1999-01-01"),
        (["migrate-code", "nowhere.py", "--from", VERSIONS[0]], "crm migrate-code", "nowhere.py"),
        (["sandbox", "--db", "no/such/dir/crm.db"], "crm sandbox", "--db"),
        (["sandbox", "--db", "folder"], "crm sandbox", "folder"),
        (["sandbox", "--port", busy], "crm sandbox", busy),
        (["webhooks", "listen"], "crm webhooks listen", "CRM_WEBHOOK_SECRET"),
        (["webhooks", "listen", "--secret", "not-a-secret"], "crm webhooks listen", "whsec_"),
        (["webhooks", "listen", "--secret", secret, "--secret", "hunter22"], "crm webhooks listen", "#2"),
        (["webhooks", "listen", "--secret", secret, "--port", busy], "crm webhooks listen", busy),
    ]
    try:
        for argv, prog, fragment in cases:
            code, out, err = run(capsys, *argv)
            assert code == 2, (argv, code, out, err)
            assert fragment in err, (argv, err)
            assert "Traceback" not in err and secret not in out + err and "hunter22" not in err, (argv, err)
            assert err.startswith(f"{prog}: "), (argv, err)
    finally:
        taken.close()
    usage_errors = [
        ["nonsense"],
        ["query"],
        ["import", "people.csv"],
        ["import", "people.csv", "--object", "people", "--delimiter", ";;"],
        ["sandbox", "--port", "70000"],
        ["query", "people", "--limit", "0"],
        ["export", "people", "-o", "x.csv", "--split-rows", "0"],
    ]
    for argv in usage_errors:
        code, out, err = run(capsys, *argv)
        assert code == 2 and "error:" in err and "Traceback" not in err, (argv, err)


def test_redact_hides_a_secret_in_its_plain_repr_and_bytes_forms() -> None:
    key = "sk_abc\x00\né"
    text = f"{key} {key!r} {key.encode()!r} {key.strip()!r} {key.strip()}"
    assert "sk_abc" not in cli.redact(text, [key])
    assert cli.redact("an ordinary message", ["", "ab"]) == "an ordinary message"


def test_a_chaos_probability_outside_zero_to_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sandbox", "--chaos", "error=2")
    assert code == 2
    assert "'error' is a probability from 0 to 1" in err and "Traceback" not in err


def test_importing_a_directory_says_it_is_a_directory(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env / "exports").mkdir()
    code, _, err = run(capsys, "import", "exports", "--object", "people")
    assert code == 2
    assert_one_clean_line(err, "crm import")
    assert "exports: is a directory, not a file." in err
