"""An interactive view of the graph as one self-contained HTML file (inline SVG, no external scripts).

Hovering a function highlights its edges; every edge carries its evidence as a tooltip. Names and
evidence come from tool schemas, which are untrusted, so everything written is HTML-escaped.
"""

from __future__ import annotations

import html
from pathlib import Path

from magnet_core.graph.dependency_graph import DependencyGraph
from magnet_core.graph.draw import MAX_DRAWN_NODES, _clustered_layout

_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
_SCRIPT = """
document.querySelectorAll('g.node').forEach(function (node) {
  node.addEventListener('mouseenter', function () {
    var id = node.dataset.id;
    document.body.classList.add('focus');
    document.querySelectorAll('line').forEach(function (l) {
      if (l.dataset.s === id || l.dataset.t === id) { l.classList.add('on'); }
    });
  });
  node.addEventListener('mouseleave', function () {
    document.body.classList.remove('focus');
    document.querySelectorAll('line.on').forEach(function (l) { l.classList.remove('on'); });
  });
});
"""


def write_html(graph: DependencyGraph, path: str | Path, tool_class: str | None = None) -> Path:
    nodes = [n for n, d in graph.graph.nodes(data=True) if tool_class is None or d.get("tool_class") == tool_class]
    if not nodes or len(nodes) > MAX_DRAWN_NODES:
        raise ValueError(f"{len(nodes)} nodes: nothing to show or too many for one page (limit {MAX_DRAWN_NODES})")
    sub = graph.graph.subgraph(nodes)
    classes = sorted({sub.nodes[n].get("tool_class") or "(none)" for n in sub})
    layout = _clustered_layout(sub, classes)
    xs = [x for x, _ in layout.values()]
    ys = [y for _, y in layout.values()]
    scale = 900 / max(1e-9, max(max(xs) - min(xs), max(ys) - min(ys)))

    def at(node: str) -> tuple[float, float]:
        x, y = layout[node]
        return round((x - min(xs)) * scale + 60, 1), round((max(ys) - y) * scale + 40, 1)

    esc = html.escape
    lines = []
    for source, target, data in sorted(sub.edges(data=True)):
        (x1, y1), (x2, y2) = at(source), at(target)
        reasons = "; ".join(
            f"{e['output_field']} -> {e['parameter']}" if e.get("output_field") else e.get("note", "") for e in data["evidence"]
        )
        tip = f"{source} -> {target} [{data['kind']}, score {data['score']}, {data['judge']}]: {reasons}"
        lines.append(f'<line class="{esc(data["kind"])}" data-s="{esc(source)}" data-t="{esc(target)}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
                     f'marker-end="url(#arrow)"><title>{esc(tip)}</title></line>')
    for node in sorted(sub):
        x, y = at(node)
        colour = _PALETTE[classes.index(sub.nodes[node].get("tool_class") or "(none)") % len(_PALETTE)]
        tip = f"{node}: {sub.out_degree(node)} out, {sub.in_degree(node)} in"
        label = sub.nodes[node].get("name") or node
        lines.append(f'<g class="node" data-id="{esc(node)}"><circle cx="{x}" cy="{y}" r="7" fill="{colour}"><title>{esc(tip)}</title></circle>'
                     f'<text x="{x + 9}" y="{y + 4}">{esc(label)}</text></g>')
    offline = " (offline heuristic judge)" if graph.metadata.get("offline") else ""
    title = f"Dependency graph {tool_class or ''}: {sub.number_of_nodes()} functions, {sub.number_of_edges()} edges{offline}"
    legend = " ".join(f'<span style="color:{_PALETTE[i % len(_PALETTE)]}">&#9679; {esc(name)}</span>' for i, name in enumerate(classes))
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title><style>
body{{font-family:sans-serif}} line{{stroke:#555;stroke-opacity:.35}} line.premise{{stroke:#c0392b;stroke-dasharray:5 4}}
body.focus line{{stroke-opacity:.05}} body.focus line.on{{stroke-opacity:.95;stroke-width:2}} text{{font-size:11px}}
</style></head><body><h3>{esc(title)}</h3><p>{legend} &nbsp; solid grey = value, dashed red = premise; hover a function or an edge.</p>
<svg width="1040" height="1000"><defs><marker id="arrow" viewBox="0 0 10 10" refX="17" refY="5" markerWidth="6" markerHeight="6" orient="auto">
<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>
{chr(10).join(lines)}
</svg><script>{_SCRIPT}</script></body></html>
"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
