"""Public facade of the `dashboard` module: the operations picture other code may reuse."""

from .clustering import cluster, layer_count
from .schemas import KpiBoard, KpiTileRead, LayerCatalogue, WallLayout
from .service import kpi_board, layer_catalogue

__all__ = [
    "KpiBoard",
    "KpiTileRead",
    "LayerCatalogue",
    "WallLayout",
    "cluster",
    "kpi_board",
    "layer_catalogue",
    "layer_count",
]
