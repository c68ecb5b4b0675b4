"""bench/README.md is written by the benchmarks section by section: a re-run replaces its own
section's figures and keeps what people wrote there by hand (dated `###` records of earlier runs)."""
from bench.__main__ import write_section

README = """# Benchmarks

## Soak

Command: old run.

| figure | value |
|---|---:|
| p95 | 9.0 s |

### Reference, 10 min (01:06, commit 6eceb12)

p95 3.0 s, written by hand.

### Latest reference run

generated, old.

## Scale

untouched.
"""


def test_a_rerun_replaces_its_figures_and_keeps_the_hand_written_subsections(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    write_section("Soak", "Command: new run.\n\n| figure | value |\n|---|---:|\n| p95 | 2.0 s |\n\n"
                          "### Latest reference run\n\ngenerated, new.", readme)
    text = readme.read_text()
    assert "new run" in text and "2.0 s" in text and "old run" not in text and "9.0 s" not in text
    assert "p95 3.0 s, written by hand." in text           # a record of an earlier run survives
    assert "generated, new." in text and "generated, old." not in text  # the bench's own subsection is replaced
    assert text.count("### Latest reference run") == 1
    assert text.endswith("## Scale\n\nuntouched.\n")


def test_a_new_section_is_appended(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    write_section("Server memory", "figures", readme)
    assert readme.read_text().endswith("untouched.\n\n## Server memory\n\nfigures\n")


def test_the_console_benchmark_runs_both_sides_and_reports_them(capsys):
    from bench import bench_console

    text = bench_console.main(["--queries", "2", "--pause-s", "0.5", "--no-write"])
    assert "| started when asked (baseline) |" in text and "| Tower: started when the last query ended |" in text
    assert "4 queries per side" in text and "× faster than the baseline" in text


def test_the_open_benchmark_times_every_case_and_reports_both_ratios():
    from bench import bench_db_open

    text = bench_db_open.main(["--opens", "2", "--no-write"])
    for label in bench_db_open.CASES.values():
        assert f"| {label} | " in text
    assert "2 opens per case" in text and "A new file opens" in text and "× faster than the baseline" in text
