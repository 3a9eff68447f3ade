"""Entry point of lambdad's python3.x runtimes: see lambdad_bootstrap.py."""
from lambdad_bootstrap import main

main()
