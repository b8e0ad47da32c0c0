"""`python -m api.cli`, the same as the `kotaku` script."""

from api.cli import main

main()
