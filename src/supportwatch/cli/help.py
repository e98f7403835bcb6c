"""What `supportwatch COMMAND --help` shows beyond the options: examples, and placeholders that read
as words (`--table NAME`, `--topic-arn ARN`), given to every command's parser after it is built."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

EXAMPLES = {
    "supportwatch": [
        "supportwatch scan demo/trails           # offline, no AWS at all",
        "supportwatch sandbox demo/trails        # the stack on an embedded AWS, to try",
        "supportwatch query --stack NAME --top 10",
        "supportwatch COMMAND --help             # each command's options and examples",
    ],
    "scan": [
        "supportwatch scan demo/trails",
        "supportwatch scan ~/Downloads/AWSLogs --format csv > usage.csv",
        "supportwatch scan demo/trails --rules root-usage,volume --volume-threshold 5",
        "supportwatch scan ~/Downloads/AWSLogs --services support,q,bedrock",
    ],
    "local": [
        "supportwatch local demo/trails",
        "supportwatch local demo/trails --report usage.html --verbose",
        "supportwatch local ~/Downloads/AWSLogs --services support,q,bedrock",
    ],
    "sandbox": [
        "supportwatch sandbox demo/trails    # then paste the lines it prints elsewhere",
    ],
    "query": [
        "supportwatch query --table NAME                    # every identity",
        "supportwatch query --stack supportwatch --top 10",
        "supportwatch query --identity dana@example.com     # the end of a key will do",
        "supportwatch query --since 2026-01-01 --until 2026-01-31 --format csv",
        "supportwatch query --active --by week --profile audit --region eu-west-1",
    ],
    "backfill": [
        "supportwatch backfill s3://my-trail-bucket --dry-run",
        "supportwatch backfill s3://my-trail/logs --since 2026-01-01 --stack NAME",
        "supportwatch backfill s3://my-trail-bucket --table NAME --no-alerts",
        "supportwatch backfill s3://my-trail-bucket --stack NAME --services support,q",
    ],
    "redrive": [
        "supportwatch redrive --queue-url URL --dry-run",
        "supportwatch redrive --queue-url URL --stack supportwatch",
    ],
    "report": [
        "supportwatch report --stack supportwatch -o usage.html     # the last 30 days",
        "supportwatch report --table NAME --since 2026-01-01 -o january.html",
    ],
    "doctor": [
        "supportwatch doctor",
        "supportwatch doctor --stack supportwatch --format json",
        "supportwatch doctor --services support,q,bedrock",
    ],
    "verify": [
        "supportwatch verify s3://my-trail-bucket --since 2026-01-01",
        "supportwatch verify s3://my-trail-bucket --public-keys keys.json --format json",
    ],
    "reveal": [
        "supportwatch reveal p-abcdefghijklmnopqrstuvwxyz --table NAME",
    ],
    "forget": [
        "supportwatch forget arn:aws:iam::111122223333:user/dana --table NAME",
        "supportwatch forget p-abcdefghijklmnopqrstuvwxyz --table NAME",
    ],
    "migrate": [
        "supportwatch migrate --table NAME",
    ],
    "pseudonym": [
        "supportwatch pseudonym arn:aws:iam::111122223333:user/dana --stack NAME",
        "supportwatch pseudonym 203.0.113.9 --pseudonymize-key key.txt",
    ],
}

# option destination -> its placeholder, where argparse's own (the option's name in capitals) reads badly
METAVARS = {
    "table": "NAME",
    "stack": "NAME",
    "profile": "NAME",
    "topic_arn": "ARN",
    "queue_url": "URL",
    "endpoint_url": "URL",
    "template": "FILE",
    "workers": "N",
    "concurrency": "N",
    "days": "N",
    "max_bytes": "BYTES",
    "volume_threshold": "CALLS",
    "allowlist": "PATTERN,...",
    "rules": "RULE,...",
}
TABLE_ENVIRONMENT = "SUPPORTWATCH_TABLE"


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help within the terminal's width: examples printed line by line as written, no word
    broken at its hyphens (rule names), and a usage line too long for argparse to break (a group of
    exclusive options) folded at its spaces."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _format_usage(self, *args: Any) -> str:
        lines = []
        for line in super()._format_usage(*args).rstrip("\n").splitlines():
            indent = " " * (len(line) - len(line.lstrip()) + 1)
            lines += textwrap.wrap(line, self._width, subsequent_indent=indent, break_on_hyphens=False) or [line]
        return "\n".join(lines) + "\n\n"


def finish(parser: argparse.ArgumentParser, commands: dict[str, argparse.ArgumentParser]) -> None:
    """Examples as each command's epilog (printed as written), and word placeholders for its options."""
    for name, command in {"supportwatch": parser, **commands}.items():
        command.formatter_class = HelpFormatter
        if examples := EXAMPLES.get(name):
            command.epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
        for action in command._actions:  # argparse has no public way to list a parser's options
            if action.option_strings and action.metavar is None and action.dest in METAVARS:
                action.metavar = METAVARS[action.dest]
