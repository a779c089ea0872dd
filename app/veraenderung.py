"""Area: Veränderung mitteilen (Veränderungsmitteilung)."""

from .eservice import blueprint_for
from .flows.definitions.veraenderung import FLOW

blueprint = blueprint_for(FLOW)
