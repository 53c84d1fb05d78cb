"""The baseline of bench_load.py: a bare Flask + Jinja page, no database, no session.

    python benchmarks/bare_app.py --port 8001 [--threads 8]          # waitress, as `serve`
    gunicorn -w 2 --chdir benchmarks bare_app:app                    # gunicorn

GET / renders a template (a layout it extends, escaped text in a loop) to about
MELDROUTE_BENCH_BYTES bytes of HTML (default 20,000), so it can be made the size of the
step page it is compared with. Under waitress it is served with the same arguments as
`meldroute serve` (webapp/cli.py: threads, ident, quiet).
"""

from __future__ import annotations

import argparse
import os

from flask import Flask, render_template
from jinja2 import DictLoader

LAYOUT = """<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><title>{% block title %}{% endblock %} · Meldroute</title></head>
<body><header><p>Basisschool De Regenboog</p></header>
<main>{% block content %}{% endblock %}</main></body>
</html>
"""
PAGE = """{% extends "layout.html" %}
{% block title %}{{ title }}{% endblock %}
{% block content %}<h1>{{ title }}</h1>
{% for row in rows %}<p class="row">{{ loop.index }}. {{ row }}</p>
{% endfor %}{% endblock %}
"""
ROW = "De leerling had een blauwe plek op de arm & zei \"gevallen\" te zijn <feitelijk>."


def create_app(size: int | None = None) -> Flask:
    size = size or int(os.environ.get("MELDROUTE_BENCH_BYTES", "20000"))
    app = Flask("bare")
    app.jinja_loader = DictLoader({"layout.html": LAYOUT, "page.html": PAGE})
    template = app.jinja_env.get_template("page.html")

    def length(n: int) -> int:
        return len(template.render(title="Signaleren", rows=[ROW] * n).encode())

    per_row = length(101) - length(100)  # rows near the end have three-digit numbers
    rows = [ROW] * max(1, 100 + (size - length(100)) // per_row)

    @app.route("/")
    def page() -> str:
        return render_template("page.html", title="Signaleren", rows=rows)

    return app


app = create_app()


def main() -> int:
    import waitress

    parser = argparse.ArgumentParser(description="serve the bare page with waitress")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads,
                   ident="Meldroute", _quiet=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
