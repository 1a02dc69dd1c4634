from optimizer.cli.main import run

run()
