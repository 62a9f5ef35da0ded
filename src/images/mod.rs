//! Images: the Sysbox node image (built from the embedded `node-image/`),
//! preloading inner images into node images, and loading host images into
//! the nodes of a running cluster. Everything goes through the provider
//! seam (`provider::Provider`).

pub mod build;
pub mod load;
