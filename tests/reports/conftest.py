from tests.sla.helpers import clock

__all__ = ["clock"]
