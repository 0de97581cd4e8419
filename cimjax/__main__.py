import sys

from cimjax.cli import main

sys.exit(main())
