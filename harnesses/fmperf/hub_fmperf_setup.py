# Written into the run's output folder by hub's fmperf adapter and run there before fmperf.
#
# fmperf's generate-input sends its requests to the first model the server lists and loads that
# model's tokenizer with AutoTokenizer.from_pretrained(<model id>). hub runs harnesses offline
# with a tokenizer directory of its own, so this script makes the model id resolve to that
# directory: a relative id becomes a link in this folder (from_pretrained looks in the working
# directory first); an absolute id must already be a directory on this machine.
#
# usage: python hub_fmperf_setup.py <server root URL> <model hub runs> <tokenizer directory>
import json
import os
import sys
import urllib.request

url, wanted, tokenizer = sys.argv[1:4]
with urllib.request.urlopen(f"{url}/v1/models", timeout=30) as r:
    models = [m["id"] for m in json.load(r)["data"]]
if not models:
    sys.exit(f"hub: {url}/v1/models lists no model")
first = models[0]
if first != wanted:
    sys.exit(f"hub: fmperf always uses the first model the server lists ({first}); it cannot run {wanted}")
if os.path.isabs(first):
    if not os.path.isdir(first):
        sys.exit(f"hub: the served model id {first} is an absolute path that is not a directory here; fmperf cannot load its tokenizer")
    print(f"hub: fmperf loads the tokenizer from {first}")
    sys.exit(0)
if os.path.islink(first):
    os.remove(first)
elif os.path.exists(first):
    sys.exit(f"hub: {os.path.abspath(first)} exists and is not a link hub made")
parent = os.path.dirname(first)
if parent:
    os.makedirs(parent, exist_ok=True)
os.symlink(tokenizer, first)
print(f"hub: model id {first} -> tokenizer {tokenizer}")
