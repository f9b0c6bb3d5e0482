from modules.cli import run

run()
