"""Analysis page (being built for issue 11)."""

import streamlit as st

st.title("Analysis")
