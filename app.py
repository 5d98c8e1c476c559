"""The narratives explorer: navigation only; every page lives in narratives/ui/pages/.

streamlit run app.py -- --project PATH      (or: narratives explore PATH)
"""

import sys

from narratives.ui.common import navigation

navigation(sys.argv[1:]).run()
