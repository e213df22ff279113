"""Command line: a thin shim. Each command parses options, resolves dates and paths,
calls the library (load → rules → reports) and prints a short summary.

Exit codes (05-operations.md), for every command:
  0  done
  1  failed while running (output folder not writable, disk full, unexpected error),
     or done with data issues above --max-issue-rate
  2  usage error or unusable input (bad option, bad config, missing column,
     unreadable file); nothing written
  3  another run holds the output folder's lock
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from aftercare import errors

EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 failed while running (or data issues above --max-issue-rate); "
    "2 usage error or unusable input, nothing written; 3 another run holds the lock."
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    help="aftercare: reminder call lists, churn segments and month-end KPIs from DMS exports.\n\n"
    + EXIT_CODES_HELP,
)
config_app = typer.Typer(no_args_is_help=True, help="Manage aftercare.toml.")
app.add_typer(config_app, name="config")

# ---- shared options, defined once -------------------------------------------------------
DataOpt = Annotated[
    Optional[Path],
    typer.Option("--data", help="Folder of DMS exports (default: [data] dir, else ./data)."),
]
ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", help="Config file (default: ./aftercare.toml if present)."),
]
AsOfOpt = Annotated[
    Optional[str], typer.Option("--as-of", help="Data cutoff: YYYY-MM-DD or 'today'.")
]
LangOpt = Annotated[str, typer.Option("--lang", help="Language of sheets and messages: zh|en.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress bars; only errors.")]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Machine-readable summary on stdout (no personal data).")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]
SkipBadOpt = Annotated[
    bool,
    typer.Option("--skip-bad-files", help="List unreadable files and go on without them."),
]


LogFileOpt = Annotated[
    Optional[Path],
    typer.Option("--log-file", help="Append one JSON line per run (time, command, as_of, "
                 "counts, exit code; no personal data)."),
]
MaxIssueRateOpt = Annotated[
    Optional[float],
    typer.Option("--max-issue-rate", min=0.0, max=1.0,
                 help="Exit 1 (after writing) when data issues exceed this share of the "
                 "input rows, e.g. 0.05."),
]
CacheDirOpt = Annotated[
    Optional[Path],
    typer.Option("--cache-dir", help="Parse cache folder (default: $XDG_CACHE_HOME/aftercare, "
                 "else ~/.cache/aftercare); never inside --data."),
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Parse every file again; read and write no cache."),
]


def _use_cache(cache_dir: Path | None, no_cache: bool, data_dir: Path) -> None:
    """Set the parse cache the loader uses in this run (aftercare.load.cache.set_default:
    the commands' run_* functions call load_folder without a cache_dir)."""
    from aftercare.load import cache

    if no_cache and cache_dir is not None:
        raise errors.UsageError("--cache-dir 与 --no-cache 只能给一个 (give --cache-dir or "
                                "--no-cache, not both)")
    if cache_dir is not None and cache.is_inside(cache_dir, data_dir):
        raise errors.UsageError(f"--cache-dir {cache_dir} 在数据文件夹 {data_dir} 之内；"
                                "请放在数据文件夹之外 (the cache must be outside --data)")
    cache.set_default(None if no_cache else (cache_dir or cache.default_dir()))
    cache.set_background(True)  # run() waits for the writer before the process exits


def _lang(value: str) -> str:
    if value not in ("zh", "en"):
        raise errors.UsageError(f"--lang 只能是 zh 或 en，收到 '{value}' (--lang must be zh or en)")
    return value


@app.command()
def check(
    data: DataOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = "zh",
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    skip_bad_files: SkipBadOpt = False,
    log_file: LogFileOpt = None,
    max_issue_rate: MaxIssueRateOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    debug: DebugOpt = False,
) -> dict:
    """Load the data folder and show what was found: files, tables, row counts, ignored
    files, ROs deduplicated across files, data issues by reason, and the dates covered.
    Writes nothing.

    Example:

        aftercare check --data /srv/dms
    """
    from aftercare.commands.check import run_check
    from aftercare.dates import resolve_as_of

    lang = _lang(lang)
    cfg = _config(config)
    _use_cache(cache_dir, no_cache, _data_dir(data, cfg))
    return run_check(
        data_dir=_data_dir(data, cfg),
        cfg=cfg,
        as_of=resolve_as_of(as_of),
        lang=lang,
        quiet=quiet,
        as_json=json_out,
        skip_bad_files=skip_bad_files,
    )


OutOpt = Annotated[Path, typer.Option("--out", help="Output folder (default ./out).")]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Rewrite a contact log that staff filled in (the old one is "
                 "kept as .bak-<time>)."),
]


@app.command()
def due(
    month: Annotated[Optional[str], typer.Option("--month", help="YYYY-MM, this, next or prev.")] = None,
    day: Annotated[Optional[str], typer.Option("--day", help="YYYY-MM-DD, today or tomorrow: the "
                                                "day's 3DC/7DC follow-ups.")] = None,
    data: DataOpt = None,
    out: OutOpt = Path("out"),
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    agents: Annotated[Optional[str], typer.Option("--agents", help="Agents, comma-separated "
                                                   "(default: [calling] agents).")] = None,
    lang: LangOpt = "zh",
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    force: ForceOpt = False,
    skip_bad_files: SkipBadOpt = False,
    log_file: LogFileOpt = None,
    max_issue_rate: MaxIssueRateOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    debug: DebugOpt = False,
) -> dict:
    """Write the reminder call list for a month (due-YYYY-MM.xlsx) or the follow-ups for a
    day (due-YYYY-MM-DD.xlsx), with one prefilled contact log per agent.

    Without --as-of: today, or for a month/day already past, the day before it starts.

    Example:

        aftercare due --month next --data /srv/dms --out /srv/care
    """
    import datetime as _dt

    from aftercare.commands.due import default_as_of_for_day, default_as_of_for_month, run_due
    from aftercare.dates import parse_day, parse_month, resolve_as_of, today

    lang = _lang(lang)
    if (month is None) == (day is None):
        raise errors.UsageError("请给出 --month 或 --day 之一 (give exactly one of --month, --day)")
    now = today()
    m = parse_month(month, clock=now) if month is not None else None
    d = parse_day(day, option="--day", clock=now) if day is not None else None
    if as_of is not None:
        when = resolve_as_of(as_of, clock=now)
    elif m is not None:
        when = default_as_of_for_month(m, now)
    else:
        when = default_as_of_for_day(d, now)
    cfg = _config(config)
    _use_cache(cache_dir, no_cache, _data_dir(data, cfg))
    agent_list = [a.strip() for a in agents.split(",") if a.strip()] if agents else \
        cfg["calling"]["agents"]
    if not agent_list:
        raise errors.UsageError("没有坐席：用 --agents 或 [calling] agents 指定 (no agents)")
    from aftercare.lock import output_lock

    with output_lock(out, "due"):
        return run_due(data_dir=_data_dir(data, cfg), out_dir=out, cfg=cfg,
                       config_file=str(config) if config else None, as_of=when, month=m,
                       day=d, agents=agent_list, lang=lang, quiet=quiet, as_json=json_out,
                       force=force, skip_bad_files=skip_bad_files,
                       stamp=_dt.datetime.now().strftime("%Y%m%d-%H%M%S"))


ShowPhonesOpt = Annotated[
    bool, typer.Option("--show-phones", help="Show full phone numbers (masked by default).")
]


@app.command()
def churn(
    data: DataOpt = None,
    out: OutOpt = Path("out"),
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    lang: LangOpt = "zh",
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    show_phones: ShowPhonesOpt = False,
    skip_bad_files: SkipBadOpt = False,
    log_file: LogFileOpt = None,
    max_issue_rate: MaxIssueRateOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    debug: DebugOpt = False,
) -> dict:
    """Band every vehicle by days since its last visit (活跃, 3/6/9 个月, 流失, 长期流失), split
    the 90–364-day group 本地/外地 × 在保/出保, and write ranked win-back call sheets
    (churn-<as_of>.xlsx). --as-of defaults to today.

    Example:

        aftercare churn --as-of 2026-11-30 --data /srv/dms --out /srv/care
    """
    from aftercare.commands.churn import run_churn
    from aftercare.dates import resolve_as_of
    from aftercare.lock import output_lock

    lang = _lang(lang)
    when = resolve_as_of(as_of)
    cfg = _config(config)
    _use_cache(cache_dir, no_cache, _data_dir(data, cfg))
    with output_lock(out, "churn"):
        return run_churn(data_dir=_data_dir(data, cfg), out_dir=out, cfg=cfg, as_of=when,
                         lang=lang, quiet=quiet, as_json=json_out,
                         skip_bad_files=skip_bad_files, show_phones=show_phones)


@app.command()
def report(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM, prev or this.")] = "prev",
    data: DataOpt = None,
    out: OutOpt = Path("out"),
    config: ConfigOpt = None,
    lang: LangOpt = "zh",
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    show_phones: ShowPhonesOpt = False,
    skip_bad_files: SkipBadOpt = False,
    log_file: LogFileOpt = None,
    max_issue_rate: MaxIssueRateOpt = None,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    debug: DebugOpt = False,
) -> dict:
    """Write the month-end KPI workbook (report-YYYY-MM.xlsx): every KPI with numerator,
    denominator, target and status, last month and last year, a 12-month trend with
    charts, and a drill-down sheet per rate. The data cutoff is the end of the month.

    Example:

        aftercare report --month prev --data /srv/dms --out /srv/care
    """
    from aftercare.commands.report import run_report
    from aftercare.dates import parse_month
    from aftercare.lock import output_lock

    lang = _lang(lang)
    if month == "next":
        raise errors.UsageError("--month 只能是 YYYY-MM、this 或 prev (a report is for a month "
                                "that has begun)")
    m = parse_month(month)
    cfg = _config(config)
    _use_cache(cache_dir, no_cache, _data_dir(data, cfg))
    with output_lock(out, "report"):
        return run_report(data_dir=_data_dir(data, cfg), out_dir=out, cfg=cfg, month=m,
                          lang=lang, quiet=quiet, as_json=json_out,
                          skip_bad_files=skip_bad_files, show_phones=show_phones)


@config_app.command("init")
def config_init(
    path: Annotated[Path, typer.Argument(help="Where to write it.")] = Path("aftercare.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Write a commented aftercare.toml holding every setting and its default.

    Example:

        aftercare config init /srv/dms/aftercare.toml
    """
    from aftercare.config import default_text
    from aftercare.atomic import atomic_write_text

    if path.exists() and not force:
        raise errors.UsageError(f"{path} 已存在；用 --force 覆盖 (already exists; use --force)")
    atomic_write_text(path, default_text())
    typer.echo(str(path))


def _config(path: Path | None) -> dict:
    from aftercare.config import load_config

    return load_config(path)


def _data_dir(data: Path | None, cfg: dict) -> Path:
    return data if data is not None else Path(cfg["data"]["dir"])


# ---- the single error handler --------------------------------------------------------------
def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; domain errors become one line on stderr."""
    import datetime as _dt

    argv = list(sys.argv[1:] if argv is None else argv)
    started = _dt.datetime.now()
    try:
        code, summary, error = _run(argv)
    finally:
        cache = sys.modules.get("aftercare.load.cache")  # loaded only if a command used it
        if cache is not None:
            cache.wait_writers()  # the dataset's cache entry, written in the background
            cache.set_background(False)
    log_file = _argv_value(argv, "--log-file")
    if log_file:
        from aftercare.runlog import append_run

        command = " ".join(a for a in argv[:2] if not a.startswith("-"))
        try:
            append_run(log_file, command=command, exit_code=code, summary=summary,
                       started=started, error=error)
        except OSError as exc:
            _fail(f"无法写入日志文件 {log_file}: {exc.strerror or exc}", False)
            code = code or errors.EXIT_FAILED
    return code


def _argv_value(argv: list[str], option: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None


def _issue_rate_exceeded(argv, summary) -> str | None:
    limit = _argv_value(argv, "--max-issue-rate")
    if limit is None or not isinstance(summary, dict):
        return None
    issues = summary.get("data_issues")
    rows = summary.get("input_rows")
    if not isinstance(issues, int) or not rows:
        return None
    rate = issues / rows
    if rate > float(limit):
        return (f"数据问题占输入行的 {rate:.1%}，超过 --max-issue-rate {float(limit):.1%}；"
                f"文件已写出，请查看数据问题表 (data issues above --max-issue-rate)")
    return None


def _run(argv: list[str]) -> tuple[int, dict | None, str | None]:
    """(exit code, the command's summary, the error's class name)."""
    debug = "--debug" in argv
    try:
        result = app(args=argv, prog_name="aftercare", standalone_mode=False)
        if isinstance(result, int):
            return int(result), None, None
        summary = result if isinstance(result, dict) else None
        exceeded = _issue_rate_exceeded(argv, summary)
        if exceeded:
            _fail(exceeded, False)
            return errors.EXIT_FAILED, summary, "MaxIssueRate"
        return errors.EXIT_OK, summary, None
    except errors.AftercareError as exc:
        _fail(str(exc), debug)
        return exc.exit_code, None, type(exc).__name__
    except typer.Exit as exc:
        return exc.exit_code, None, None
    except typer.Abort:
        _fail("已中断 (aborted)", debug)
        return errors.EXIT_FAILED, None, "Abort"
    except KeyboardInterrupt:
        _fail("已中断 (interrupted)", debug)
        return errors.EXIT_FAILED, None, "KeyboardInterrupt"
    except OSError as exc:
        # file-system trouble outside the writer: name the path and reason, nothing else
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        _fail(f"文件系统错误{where}: {exc.strerror or type(exc).__name__}", debug)
        return errors.EXIT_FAILED, None, type(exc).__name__
    except Exception as exc:  # noqa: BLE001 — the last line of defence for cron
        if _is_usage_error(exc):  # click's UsageError family (vendored in newer typer)
            ctx = getattr(exc, "ctx", None)
            hint = f" (try '{ctx.command_path} --help')" if ctx is not None else ""
            _fail(f"{exc.format_message()}{hint}", debug)
            return errors.EXIT_USAGE, None, "UsageError"
        _fail(
            f"意外错误 (unexpected error): {type(exc).__name__}。请用 --debug 重新运行查看详情并报告此问题。",
            debug,
        )
        return errors.EXIT_FAILED, None, type(exc).__name__


def _is_usage_error(exc: Exception) -> bool:
    return hasattr(exc, "format_message") and getattr(exc, "exit_code", None) == 2


def _fail(message: str, debug: bool) -> None:
    if debug:
        traceback.print_exc(file=sys.stderr)  # frames and source lines only, no local values
    print(f"Error: {message}", file=sys.stderr)


def main() -> None:
    """The console script: run(), then leave without the interpreter's teardown.

    Teardown frees every object of the run one by one (and the modules, and Arrow's
    memory pool): 0.3 s of a store's 2-2.5 s warm run, seconds after a dealer group's
    run. By the time run() returns, every file is written and closed (each is written in
    a ``with`` block and renamed into place), the parse workers have exited and the
    cache writers have been waited for; only the standard streams may hold output.
    Library callers and the tests call run(), which returns as usual; so does main() under
    a profiler or tracer (cProfile, coverage), which write their results at exit.

    Before the run it asks malloc to keep freed memory for reuse
    (:func:`aftercare.memory.keep_freed_memory`), for this process and its workers."""
    from aftercare import memory

    memory.keep_freed_memory()
    code = run()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head): nothing more to say
            pass
    os._exit(code)
