"""Area: Ortsabwesenheit beantragen."""

from .eservice import blueprint_for
from .flows.definitions.ortsabwesenheit import FLOW

blueprint = blueprint_for(FLOW)
