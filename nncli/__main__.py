"""`python -m nncli` runs the same command line as `nncli`."""

from nncli.cli import main

main()
