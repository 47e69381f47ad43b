"""The progress bar yields what it wraps, unchanged, and writes only to stderr."""

from lib.progress import progress


def test_progress_yields_the_items_and_keeps_stdout_clean(capsys):
    assert list(progress(range(5), desc="probe")) == [0, 1, 2, 3, 4]
    out, err = capsys.readouterr()
    assert out == "" and "probe" in err
