from kseal.cli.main import run

run()
