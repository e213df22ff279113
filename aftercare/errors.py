"""Domain errors. The core raises these; one handler in the CLI turns each into a
one-line message on stderr and an exit code (05-operations.md):

- 0 done;
- 1 failed while running (output folder not writable, disk full, unexpected error),
  or done with data issues above ``--max-issue-rate``;
- 2 usage error or unusable input, nothing written;
- 3 another run holds the lock.

Messages must never carry customer data (names, phones, ID numbers): they name files,
sheets, fields, headers and config keys only.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3


class AftercareError(Exception):
    """Base of every error the CLI reports as a one-line message."""

    exit_code = EXIT_FAILED

    def __reduce__(self):
        # picklable whatever the subclass's __init__ takes: errors raised while parsing a
        # file in a worker process reach the parent whole (file, reason, aliases …)
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls, args, state):
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


class UsageError(AftercareError):
    """A bad option value or an unusable combination of options."""

    exit_code = EXIT_USAGE


class ConfigError(AftercareError):
    """The config file is unreadable, has an unknown key or a value of the wrong type."""

    exit_code = EXIT_USAGE


class InputError(AftercareError):
    """The input data cannot be used (nothing is written)."""

    exit_code = EXIT_USAGE


class BadFileError(InputError):
    """A file that cannot be read: corrupt, password-protected, not a spreadsheet."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(
            f"{self.path}: 无法读取 ({reason})。请重新从 DMS 导出该文件，或用 --skip-bad-files 跳过它。"
        )


class MissingColumnError(InputError):
    """A sheet lacks a required column; names everything needed to fix it."""

    def __init__(self, *, file, sheet, table, field, aliases, headers_found):
        self.file = str(file)
        self.sheet = sheet
        self.table = table
        self.field = field
        self.aliases = list(aliases)
        self.headers_found = [h for h in headers_found if h]
        config_key = f"[aliases.{table}] {field.split('/')[0]}"
        super().__init__(
            f"{self.file} [{sheet}]: 缺少必需列 '{field}' (表 {table})。"
            f"尝试过的列名: {', '.join(self.aliases)}。"
            f"实际找到的列: {', '.join(self.headers_found) or '(无)'}。"
            f"如果该列在文件里叫别的名字，请在 aftercare.toml 的 {config_key} = [\"…\"] 中添加别名。"
        )


class OutputError(AftercareError):
    """The output folder cannot be written (permissions, disk full)."""

    exit_code = EXIT_FAILED


class FilledLogError(AftercareError):
    """A contact log that staff filled in would be overwritten."""

    exit_code = EXIT_USAGE


class LockHeldError(AftercareError):
    """Another run holds the output folder's lock."""

    exit_code = EXIT_LOCKED
