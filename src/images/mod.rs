//! Images: the Sysbox node images (derived from the embedded `node-image/`:
//! the default one and those of named images),
//! preloading inner images into node images, and loading host images into
//! the nodes of a running cluster. Everything goes through the provider
//! seam (`provider::Provider`).

pub mod build;
pub mod load;
pub mod named;
pub mod oci;
