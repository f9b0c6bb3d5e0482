"""netweave's CrossGuard policy pack: `pulumi preview --policy-pack policy`.

The policies live in modules/policy.py (tested there); this file only serves them.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the netweave project

from netweave.deploy.policy import serve

serve()
