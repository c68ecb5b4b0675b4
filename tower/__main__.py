"""`python -m tower [streamlit options]`: start Tower's runtime (sandbox, connectors, alerts) in this
process, then serve the Streamlit app from the same process.
`python -m tower kpi …`: print the KPIs of the semantic layer (tower/kpi_cli.py).

`streamlit run app.py` alone would start the runtime only when the first browser connects; a war room
wants data flowing from the moment the server is up, whether or not a screen is open yet."""
import logging
import sys
from pathlib import Path

from streamlit.web import cli

from tower import kpi_cli, runtime

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(argv: list[str]) -> None:
    if argv[:1] == ["kpi"]:
        sys.exit(kpi_cli.main(argv[1:]))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    runtime.preload()
    cli.main(["run", str(APP), "--server.headless", "true", *argv], prog_name="streamlit")


if __name__ == "__main__":
    main(sys.argv[1:])
