#!/bin/sh
# pipeline.sh: a deterministic shell pipeline for profgen tests. Each stage is
# a separate process (fork + exec, joined by pipes). Prints "3".
set -e
printf 'delta\nalpha\ncharlie\nalpha\nbravo\ncharlie\n' | tr 'a-z' 'A-Z' | sort -u | grep -v DELTA | wc -l
