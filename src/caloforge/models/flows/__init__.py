"""CaloFlow-style normalizing flows (``MODELS["caloflow"]``, ``MODELS["icaloflow"]``).

Masked autoregressive spline flows (teachers, exact log-likelihood) distilled into inverse
autoregressive students (single-pass sampling). The spline bijections come from zuko, imported
only when a flow is built (``pip install 'caloforge[flows]'``). Importing this subpackage
registers the models.
"""

from __future__ import annotations

from caloforge.models.flows.base import TwoStageFlow
from caloforge.models.flows.caloflow import CaloFlow
from caloforge.models.flows.config import CaloFlowConfig, FlowConfig, ICaloFlowConfig
from caloforge.models.flows.distill import distillation_loss, student_discrepancy
from caloforge.models.flows.inductive import ICaloFlow
from caloforge.models.flows.maf import ConditionalIAF, ConditionalMAF
from caloforge.models.flows.preprocess import FlowFeatures, FlowPreprocessing

__all__ = [
    "CaloFlow",
    "CaloFlowConfig",
    "ConditionalIAF",
    "ConditionalMAF",
    "FlowConfig",
    "FlowFeatures",
    "FlowPreprocessing",
    "ICaloFlow",
    "ICaloFlowConfig",
    "TwoStageFlow",
    "distillation_loss",
    "student_discrepancy",
]
