"""A text description of a composite's wiring, for ``greybox show``."""
from __future__ import annotations

from .document import edge_nodes, resolve_wire
from .ports import port_shape, port_units
from .validation import validate_document

__all__ = ["describe_wiring"]


def describe_wiring(document, core) -> str:
    """Processes with their config, ports (shape, units) and the stores they are wired to."""
    instances = validate_document(document, core=core)
    edges = edge_nodes(document["state"])
    lines = []
    for path, node in edges.items():
        name = "/".join(map(str, path))
        instance = instances.get(path)
        lines.append(f"{name}  ({node.get('address')}, every {node.get('interval', 1.0)})")
        for key, value in (node.get("config") or {}).items():
            lines.append(f"    config {key} = {value!r}")
        if instance is None:
            continue
        for direction, ports in (("in ", instance.inputs() or {}), ("out", instance.outputs() or {})):
            wires = node.get("inputs" if direction == "in " else "outputs") or {}
            for port, schema in ports.items():
                target = "/".join(map(str, resolve_wire(path, wires.get(port, [port]))))
                shape = port_shape(schema)
                detail = f" shape {shape}" if shape is not None else f" {schema}"
                units = port_units(schema)
                lines.append(f"    {direction} {port:<12} -> {target}{detail}"
                             + (f" [{units}]" if units else ""))
    return "\n".join(lines)
