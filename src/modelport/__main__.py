"""``python -m modelport``: the ``modelport`` command, for when its script is not on the PATH."""

from modelport.cli.main import main

if __name__ == "__main__":  # batch workers are spawned, and a spawned process imports this module again
    main()
