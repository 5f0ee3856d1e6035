//! Native backend (being written).
