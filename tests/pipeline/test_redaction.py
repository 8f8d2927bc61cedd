"""Redaction of secrets from audit records, logs, chat replies and command output."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline.redaction import REDACTED, Redactor, is_secret_key, redact_key_material

KNOWN = ["hunter2-Secret", "s3cr3t/pw with space", "Zq9!longpassphrase"]


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(KNOWN)


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("login with hunter2-Secret now", "hunter2-Secret"),
        ("the value was s3cr3t/pw with space.", "s3cr3t/pw with space"),
        ("url-encoded: s3cr3t%2Fpw%20with%20space", "s3cr3t%2Fpw%20with%20space"),
        ("slack xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", "xoxb-1234567890"),
        ("user token xoxp-11111111-22222222-abcdef", "xoxp-11111111"),
        ("refresh xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTA", "xoxe.xoxp-1-Mi0y"),
        ("app-level xapp-1-A012ABCD-1234567890-abcdef0123456789", "xapp-1-A012ABCD"),
        ("legacy xoxa-2-abcdefghijkl and xoxr-abcdefghijk", "abcdefghij"),
        ("Authorization: Bearer abc.def-ghi_jkl~123", "abc.def-ghi_jkl~123"),
        ("curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA==' https://x", "dXNlcjpwYXNzd29yZA"),
        ("authorization=token ghx_notreally_but_secret", "ghx_notreally_but_secret"),
        ("got bearer eyAbCdEfGhIjKlMn in header", "eyAbCdEfGhIjKlMn"),
        ("AWS_ACCESS_KEY_ID AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        ("temp creds ASIAY34FZKBOKMUTVV7A here", "ASIAY34FZKBOKMUTVV7A"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("gh token ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123", "ghp_ABCDEFGHIJ"),
        ("gitlab glpat-xxxxXXXXyyyyYYYY1234", "glpat-xxxx"),
        ("google AIzaSyA-1234567890abcdefghijklmnopqrstu", "AIzaSyA-1234"),
        (
            "jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fw",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        ),
        ("postgres://app:pa55word@db.internal:5432/ops", "pa55word"),
        ("redis://:onlypassword@127.0.0.1:6379/0", "onlypassword"),
        ("https://deploy:tok%40en@git.example.com/repo.git", "tok%40en"),
        ("DB_PASSWORD=abc123 next", "abc123"),
        ("export MYSQL_ROOT_PASSWORD='with space'", "with space"),
        ('password = "quoted value"', "quoted value"),
        ("password: hunter3", "hunter3"),
        ('{"password": "it\'s mine", "user": "bob"}', "it's mine"),
        ('{"client_secret":"x\\"y", "n": 1}', 'x\\"y'),
        ("secret=abcdef&user=bob", "abcdef"),
        ("spring.datasource.password=springpw", "springpw"),
        ("apiKey=abcd1234 clientSecret: zzzzzz", "abcd1234"),
        ("apiKey=abcd1234 clientSecret: zzzzzz", "zzzzzz"),
        ("api_key: k-123456", "k-123456"),
        ("GITHUB_TOKEN=whatever123", "whatever123"),
        ("mycmd --password foo123 --verbose", "foo123"),
        ("mycmd --client-secret=bar456", "bar456"),
        ("mycmd --token baz789", "baz789"),
        ("credentials: user/pass-pair", "user/pass-pair"),
    ],
)
def test_secrets_are_removed(redactor: Redactor, text: str, leaked: str) -> None:
    out = redactor.redact_text(text)
    assert leaked not in out
    assert REDACTED in out


def test_private_key_block_is_removed_whole_and_text_around_it_kept(redactor: Redactor) -> None:
    text = (
        "before\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQUJD\n"
        "-----END OPENSSH PRIVATE KEY-----\nafter"
    )
    assert redactor.redact_text(text) == f"before\n{REDACTED}\nafter"


@pytest.mark.parametrize(
    "header",
    ["-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----"],
)
def test_truncated_private_key_is_removed_to_the_end(redactor: Redactor, header: str) -> None:
    out = redactor.redact_text(f"cat id\n{header}\nMIIEowIBAAKCAQEA...\n(output truncated)")
    assert out == f"cat id\n{REDACTED}"


def test_url_password_keeps_user_host_and_path(redactor: Redactor) -> None:
    out = redactor.redact_text("connect mysql://root:toor@10.0.0.5:3306/db?x=1")
    assert out == f"connect mysql://root:{REDACTED}@10.0.0.5:3306/db?x=1"


def test_assignment_keeps_the_key(redactor: Redactor) -> None:
    assert redactor.redact_text("DB_PASSWORD=abc123 other=1") == f"DB_PASSWORD={REDACTED} other=1"
    assert redactor.redact_text('{"token": "t0k3n"}') == f'{{"token": "{REDACTED}"}}'


def test_known_secret_longest_first_leaves_no_fragment() -> None:
    redactor = Redactor(["abcd", "abcdefgh"])
    assert redactor.redact_text("x abcdefgh y") == f"x {REDACTED} y"


def test_short_and_empty_known_secrets_are_ignored() -> None:
    redactor = Redactor(["", "  ", "ab", "abc"])
    assert redactor.redact_text("abc ab cab") == "abc ab cab"


def test_secrets_added_later_are_redacted() -> None:
    redactor = Redactor()
    assert redactor.redact_text("pw is Tr0ub4dor&3") == "pw is Tr0ub4dor&3"
    redactor.add_secrets(["Tr0ub4dor&3"])
    assert redactor.redact_text("pw is Tr0ub4dor&3") == f"pw is {REDACTED}"


@pytest.mark.parametrize(
    "text",
    [
        "nginx restarted on web-01.example.com (192.0.2.10) in 1.2s",
        "ssh root@web-02 'systemctl status nginx'",
        "PING 198.51.100.7: 56 data bytes, 64 bytes from 198.51.100.7: icmp_seq=0 ttl=64",
        "https://example.com:8443/path/to/x@y?q=1",
        "listening on [::1]:8080 and 10.0.0.1:443",
        "commit 4d06a67c0ffee1234567890abcdef0123456789 by alice@example.com",
        "uuid 123e4567-e89b-12d3-a456-426614174000 at 12:30:45",
        "prompt_tokens=412 max_tokens: 512 token_count=3 tokens=9",
        "PasswordAuthentication no\nPubkeyAuthentication yes",
        "PWD=/root OLDPWD=/home/alice",
        "The secretary filed the tokenizer report; password policy unchanged.",
        'secret=""',
        "Filesystem Size Used Avail Use% Mounted on\n/dev/sda1 50G 20G 30G 40% /",
        "author: Jane, auth failures: 0",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    ],
)
def test_ordinary_text_survives(redactor: Redactor, text: str) -> None:
    assert redactor.redact_text(text) == text


def test_redaction_is_idempotent(redactor: Redactor) -> None:
    samples = [
        "Authorization: Bearer abcdefghijkl",
        "DB_PASSWORD=abc123 and password: 'x y' and --token foo",
        "postgres://u:p4ss@h/db xoxb-1234567890-abc hunter2-Secret",
        '{"password": "[REDACTED]"} secret=[REDACTED]',
    ]
    for text in samples:
        once = redactor.redact_text(text)
        assert redactor.redact_text(once) == once


def test_redact_walks_nested_data_and_blanks_secret_keys(redactor: Redactor) -> None:
    record = {
        "user": "alice",
        "password": "plain",
        "headers": {"Authorization": "Bearer abcdefghijk", "Accept": "application/json"},
        "usage": {"prompt_tokens": 12, "completion_tokens": 3},
        "steps": [{"stdout": "login hunter2-Secret ok", "exit": 0}, ("xoxp-12345678-abcdefgh",)],
        "apiKey": "",
        "count": 3,
        "ok": True,
        "none": None,
    }
    out = redactor.redact(record)
    assert out == {
        "user": "alice",
        "password": REDACTED,
        "headers": {"Authorization": REDACTED, "Accept": "application/json"},
        "usage": {"prompt_tokens": 12, "completion_tokens": 3},
        "steps": [{"stdout": f"login {REDACTED} ok", "exit": 0}, (REDACTED,)],
        "apiKey": "",
        "count": 3,
        "ok": True,
        "none": None,
    }
    assert record["password"] == "plain"  # the input is not modified


def test_redactor_is_a_text_callable(redactor: Redactor) -> None:
    assert redactor("x hunter2-Secret") == f"x {REDACTED}"


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("DB_PASSWORD", True),
        ("client_secret", True),
        ("clientSecret", True),
        ("api-key", True),
        ("Authorization", True),
        ("Cookie", True),
        ("token", True),
        ("prompt_tokens", False),
        ("token_count", False),
        ("username", False),
        ("secretary", False),
        ("author", False),
    ],
)
def test_is_secret_key(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_large_output_is_handled(redactor: Redactor) -> None:
    chunk = "line with host web-01 10.0.0.1 a.b.c.d-e_f " * 20 + "\n"
    text = chunk * 300 + "password=zzz\n" + "a." * 50_000
    out = redactor.redact_text(text)
    assert "zzz" not in out
    assert out.startswith(chunk)


# --------------------------------------------------------------------------- command lines, headers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mysql -uroot -pS3cr3t mydb", f"mysql -uroot -p{REDACTED} mydb"),
        ("/usr/bin/mysqldump -h db -p'two words' app", f"/usr/bin/mysqldump -h db -p'{REDACTED}' app"),
        ('mariadb-dump -p"q\\"x" app', f'mariadb-dump -p"{REDACTED}" app'),
        ("mysql -p mydb", "mysql -p mydb"),  # a bare -p prompts: nothing to hide
        ("mysql -P3306 -pX9y db", f"mysql -P3306 -p{REDACTED} db"),
        ("mysql --password=S3cr3t db", f"mysql --password={REDACTED} db"),
        ('mysql --password="a b c" db', f"mysql --password={REDACTED} db"),
        ("MYSQL_PWD=S3cr3t mysql db", f"MYSQL_PWD={REDACTED} mysql db"),
        ("sshpass -p S3cr3t ssh root@h", f"sshpass -p {REDACTED} ssh root@h"),
        ("sshpass -pS3cr3t ssh h", f"sshpass -p{REDACTED} ssh h"),
        ("SSHPASS=S3cr3t sshpass -e ssh h", f"SSHPASS={REDACTED} sshpass -e ssh h"),
        ("curl -u alice:S3cr3t https://x/", f"curl -u alice:{REDACTED} https://x/"),
        ("curl -sSu alice:S3cr3t https://x/", f"curl -sSu alice:{REDACTED} https://x/"),
        ("curl --user 'alice:two words' https://x/", f"curl --user 'alice:{REDACTED}' https://x/"),
        ("curl --proxy-user=bob:pr0xy https://x/", f"curl --proxy-user=bob:{REDACTED} https://x/"),
        ("curl -u alice https://x/", "curl -u alice https://x/"),
        ("http -a alice:S3cr3t GET x", f"http -a alice:{REDACTED} GET x"),
        ("smbclient //fs/share -U alice%S3cr3t", f"smbclient //fs/share -U alice%{REDACTED}"),
        ("redis-cli -h r -a S3cr3t ping", f"redis-cli -h r -a {REDACTED} ping"),
        ("docker login -u bob -p S3cr3t reg", f"docker login -u bob -p {REDACTED} reg"),
        ("docker run -p 8080:80 nginx", "docker run -p 8080:80 nginx"),
        ("openssl rsa -passin pass:S3cr3t -in k", f"openssl rsa -passin pass:{REDACTED} -in k"),
        ("PGPASSWORD=S3cr3t psql -h db", f"PGPASSWORD={REDACTED} psql -h db"),
        ("tool --token 'abc def' --x", f"tool --token {REDACTED} --x"),
        ("tool --pass S3cr3t", f"tool --pass {REDACTED}"),
        (
            "aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            f"aws configure set aws_secret_access_key {REDACTED}",
        ),
        ("secret key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ok", f"secret key {REDACTED} ok"),
        (
            "git clone https://bob:p@ss/w0rd@git.example.com/r.git",
            f"git clone https://bob:{REDACTED}@git.example.com/r.git",
        ),
        ("'https://bob:pw@h/x?mail=a@b.org'", f"'https://bob:{REDACTED}@h/x?mail=a@b.org'"),
    ],
)
def test_command_line_passwords(redactor: Redactor, text: str, expected: str) -> None:
    assert redactor.redact_text(text) == expected
    assert redactor.redact_text(expected) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc def", f"Authorization: Bearer {REDACTED}"),
        (
            "> authorization: basic dXNlcjpwYXNz\r\n> Accept: */*",
            f"> authorization: basic {REDACTED}\r\n> Accept: */*",
        ),
        (
            "curl -H 'Authorization: Basic dXNlcjpw' https://x",
            f"curl -H 'Authorization: Basic {REDACTED}' https://x",
        ),
        (
            'curl -H "Authorization: Digest username=\\"bob\\", response=\\"6629fae4\\"" https://x',
            f'curl -H "Authorization: Digest {REDACTED}" https://x',
        ),
        (
            'curl --header "Proxy-Authorization: Bearer tkn12345" x',
            f'curl --header "Proxy-Authorization: Bearer {REDACTED}" x',
        ),
        (
            '{"Authorization": "Bearer abc", "Accept": "x"}',
            f'{{"Authorization": "Bearer {REDACTED}", "Accept": "x"}}',
        ),
        ("{'authorization': 'Token abc'}", f"{{'authorization': 'Token {REDACTED}'}}"),
        (
            "Authorization: AWS4-HMAC-SHA256 Credential=AK/x, SignedHeaders=host, Signature=fe5f80f7",
            f"Authorization: AWS4-HMAC-SHA256 {REDACTED}",
        ),
        ("Cookie: session=abc123; theme=dark", f"Cookie: {REDACTED}"),
        ("wget --header='Authorization: token abc' x", f"wget --header='Authorization: token {REDACTED}' x"),
    ],
)
def test_authorization_headers_in_every_position(redactor: Redactor, text: str, expected: str) -> None:
    assert redactor.redact_text(text) == expected
    assert redactor.redact_text(expected) == expected


def test_process_list_argv_is_redacted(redactor: Redactor) -> None:
    data = {
        "processes": [
            {"pid": 1, "user": "root", "command": "/sbin/init"},
            {"pid": 812, "user": "mysql", "command": "mysqldump -uroot -pS3cr3tPw app"},
            {"pid": 900, "user": "app", "command": "curl -u svc:S3cr3tPw2 https://api"},
        ]
    }
    out = redactor.redact(data)
    assert "S3cr3tPw" not in str(out)
    assert out["processes"][0] == data["processes"][0]


# --------------------------------------------------------------------------- key material without BEGIN


def _generated_keys(tmp: Path) -> dict[str, str]:
    """Private keys as ssh-keygen and openssl write them (OpenSSH, PEM, PKCS#8)."""
    ssh = {"openssh-ed25519": ["-t", "ed25519"], "openssh-rsa": ["-t", "rsa", "-b", "2048"]}
    ssh |= {"openssh-ecdsa": ["-t", "ecdsa"], "pem-rsa": ["-t", "rsa", "-b", "2048", "-m", "PEM"]}
    for name, options in ssh.items():
        subprocess.run(["ssh-keygen", "-q", "-N", "", "-C", "k", *options, "-f", str(tmp / name)], check=True)
    openssl = {
        "pkcs8-rsa": ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "pkcs8-ed25519": ["genpkey", "-algorithm", "ed25519"],
        "sec1-ec": ["ecparam", "-genkey", "-name", "prime256v1", "-noout"],
    }
    for name, options in openssl.items():
        subprocess.run(["openssl", *options, "-out", str(tmp / name)], check=True, capture_output=True)
    return {p.name: p.read_text() for p in tmp.iterdir() if not p.name.endswith(".pub")}


def _body_lines(key: str) -> list[str]:
    return [line for line in key.splitlines() if line and not line.startswith("-----")]


def test_no_slice_of_a_real_key_file_leaks_its_body(tmp_path: Path) -> None:
    """`tail -n N`, `head -n N | tail -n 2` ...: no body line survives, whatever the slice."""
    redactor = Redactor()
    for name, key in _generated_keys(tmp_path).items():
        lines = key.splitlines(keepends=True)
        slices = [lines[-n:] for n in range(1, len(lines) + 1)]
        slices += [lines[i : i + width] for width in (1, 2, 3) for i in range(1, len(lines) - 1)]
        for part in slices:
            shown = redactor("log line before\n" + "".join(part) + "log line after\n")
            leaked = [b for b in _body_lines(key) if b in shown and len(b) >= 16]
            assert not leaked, f"{name}: {leaked[0][:12]}... survived"
            assert shown.startswith("log line before\n") and shown.endswith("log line after\n")


def test_a_key_body_flattened_into_json_is_redacted(tmp_path: Path) -> None:
    key = _generated_keys(tmp_path)["pkcs8-ed25519"]
    tail = "\\n".join(key.splitlines()[1:]) + "\\n"
    shown = redact_key_material('{"private_pem": "' + tail + '", "id": 7}')
    assert _body_lines(key)[0] not in shown and shown.endswith('", "id": 7}')


@pytest.mark.parametrize(
    "text",
    [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  /etc/hosts\n",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKkJOVLnOIMH/wjkbw1wFPIb82L70d+q/pvMwDRWeJ3H root@vm\n",
        "nginx\nactive\nrunning\n",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n",  # base32, upper case only
        "/var/lib/postgresql/16/main/base/16384/2619_fsm\n",
        "ThisIsAnOrdinarySentenceWrittenInCamelCaseWithoutSpaces2024\n",
    ],
)
def test_ordinary_output_is_not_taken_for_key_material(text: str) -> None:
    assert redact_key_material(text) == text
