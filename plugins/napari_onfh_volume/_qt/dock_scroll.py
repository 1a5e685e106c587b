"""The dock's scroll area: it scrolls up and down on a small screen, never cuts off its right side."""

from __future__ import annotations

from qtpy.QtCore import QSize, Qt
from qtpy.QtWidgets import QFrame, QScrollArea, QWidget


class DockScroll(QScrollArea):
    """A vertical scroll area at least as wide as what it holds needs (boxes, buttons, table columns).

    A plain scroll area may be narrower than its content; with the horizontal scroll bar off, as a
    dock wants it, the content's right-hand side (the tables' last columns) was then cut off.
    """

    def __init__(self, content: QWidget) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(content)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        content = self.widget()
        if content is None:
            return hint
        width = content.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
        return QSize(max(hint.width(), width + 2 * self.frameWidth()), hint.height())
