from netweave.cli import run

run()
