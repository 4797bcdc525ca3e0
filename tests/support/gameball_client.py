"""A client generated from Gameball's own published OpenAPI document, as Gameball's customers
generate theirs: the document's batch section (``gameball-batch-openapi.json`` beside this
file, copied unchanged from Gameball's docs), openapi-generator's Python generator.

It is generated at test time, into a temporary directory, by the ``openapi-generator-cli``
package from PyPI (which carries the generator's jar; it needs a Java runtime, which
``.ci/run`` installs where it is missing). The command, for a person to run:

    openapi-generator-cli generate -i tests/support/gameball-batch-openapi.json -g python \\
        -o /tmp/gameball-client --package-name gameball_client
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

DOCUMENT = Path(__file__).with_name("gameball-batch-openapi.json")
PACKAGE = "gameball_client"
GENERATOR = Path(sys.executable).parent / "openapi-generator-cli"


def generate_client(out_dir: Path) -> ModuleType:
    """Generate the Python client of Gameball's batch section into ``out_dir``; import it."""
    subprocess.run(
        [str(GENERATOR), "generate", "-i", str(DOCUMENT), "-g", "python", "-o", str(out_dir),
         "--package-name", PACKAGE,
         "--global-property", "apiTests=false,modelTests=false,apiDocs=false,modelDocs=false"],
        check=True, capture_output=True, timeout=300)
    sys.path.insert(0, str(out_dir))
    importlib.invalidate_caches()
    return importlib.import_module(PACKAGE)


def batch_api(client_module: ModuleType, base_url: str, api_key: str, secret_key: str):
    """Return the generated ``DefaultApi`` for one tenant of the service at ``base_url``."""
    configuration = client_module.Configuration(
        host=base_url, api_key={"apiKey": api_key, "secretKey": secret_key})
    return client_module.DefaultApi(client_module.ApiClient(configuration))
