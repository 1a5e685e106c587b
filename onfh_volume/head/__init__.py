"""Each lesion in its femoral head: the head as a sphere, the necrotic ratio, Steinberg extent, Kerboul angle.

:mod:`~onfh_volume.head.lesions_in_heads` measures every lesion of a measurement against its head
(:mod:`~onfh_volume.head.find` in the image, :mod:`~onfh_volume.head.fit` from the reader's points
or traced head); :mod:`~onfh_volume.head.measures` holds the measures,
:mod:`~onfh_volume.head.quality` the collapse and the head's quality,
:mod:`~onfh_volume.head.hip_summary` a hip's measures from its lesions'.
"""

from .find import head_from_image
from .fit import HeadSphere, head_from_mask, head_from_points
from .hip_summary import hip_in_head, hip_review
from .in_head import LesionInHead
from .lesions_in_heads import add_heads, lesion_in_head, lesions_in_heads
from .measures import KerboulAngle, kerboul_angle, necrotic_ratio_pct, steinberg_extent

__all__ = [
    "HeadSphere",
    "KerboulAngle",
    "LesionInHead",
    "add_heads",
    "head_from_image",
    "head_from_mask",
    "head_from_points",
    "hip_in_head",
    "hip_review",
    "kerboul_angle",
    "lesion_in_head",
    "lesions_in_heads",
    "necrotic_ratio_pct",
    "steinberg_extent",
]
