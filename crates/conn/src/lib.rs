//! Sans-IO HTTP/2 server connection.
