#!/usr/bin/env bash
# Build the skngd documentation: HTML in doc/_build/html, warnings are errors,
# every gallery example is executed, numpydoc validation is enforced.
#
#   bash doc/build.sh            # full, clean build (what CI runs)
#   SKNGD_DOCS_NO_GALLERY=1 bash doc/build.sh   # text only, examples not run
#   SKNGD_DOCS_INTERSPHINX=1 bash doc/build.sh  # with network: link to
#                                               # sklearn/numpy/scipy/POT docs
#
# Extra arguments are passed to sphinx-build.
set -euo pipefail
cd "$(dirname "$0")"

export MPLBACKEND=Agg
export PYTHONHASHSEED=0

# a clean build, so every example runs again and nothing stale is published
rm -rf _build/html _build/doctrees auto_examples generated _generated api.rst sg_execution_times.rst

start=$(date +%s)
python -m sphinx -W --keep-going -b html -d _build/doctrees . _build/html "$@"
end=$(date +%s)
echo "docs: built in $((end - start)) s -> $(pwd)/_build/html/index.html"
