from station.cli import run

run()
