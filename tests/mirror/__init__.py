"""The bundled offline demo mirror of the sites, its generator and its local server."""
