"""`python bench/run.py [options]` is `python -m bench [options]` (see driver.py)."""

if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path[0] = str(Path(__file__).resolve().parents[1])  # import the bench package
    from bench.driver import main

    main()
