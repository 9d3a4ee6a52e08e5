//! Length-prefixed frames: a 4-byte big-endian length, then the bytes. Sync's request-response
//! codec and the consensus links (`links.rs`) both use them. Lengths above the configured
//! maximum are refused before any buffer is allocated, and counted (libp2p does not report a
//! request that fails to decode).

use std::io;
use std::sync::Arc;

use async_trait::async_trait;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response;
use libp2p::StreamProtocol;

use super::event::Counters;

/// Bytes in, bytes out, with separate size bounds for requests and responses.
#[derive(Clone, Debug)]
pub(crate) struct BytesCodec {
    pub max_request: usize,
    pub max_response: usize,
    pub counters: Arc<Counters>,
}

pub(crate) async fn read_frame<T>(
    io: &mut T,
    max: usize,
    what: &str,
    counters: &Counters,
) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    let mut prefix = [0u8; 4];
    io.read_exact(&mut prefix).await?;
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max {
        Counters::bump(&counters.rejected_messages);
        tracing::warn!(len, max, "inbound {what} exceeds the size limit; refused");
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} of {len} bytes exceeds the limit of {max} bytes"),
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

async fn write_frame<T>(io: &mut T, bytes: &[u8], max: usize, what: &str) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    if bytes.len() > max || u32::try_from(bytes.len()).is_err() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{what} of {} bytes exceeds the limit of {max} bytes",
                bytes.len()
            ),
        ));
    }
    io.write_all(&frame(bytes)).await?;
    io.flush().await
}

/// `bytes` behind their 4-byte big-endian length, in one buffer: written in one call, a frame
/// is one yamux frame and one noise message (written in two, the 4-byte prefix went alone, with
/// its own headers, encryption and system call). The caller has checked the length.
pub(crate) fn frame(bytes: &[u8]) -> Vec<u8> {
    let len = u32::try_from(bytes.len()).expect("frames are checked against a limit below 4 GiB");
    let mut out = Vec::with_capacity(4 + bytes.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

#[async_trait]
impl request_response::Codec for BytesCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_request, "request", &self.counters).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_response, "response", &self.counters).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req, self.max_request, "request").await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res, self.max_response, "response").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::futures::executor::block_on;
    use libp2p::futures::io::Cursor;
    use request_response::Codec;

    const P: StreamProtocol = StreamProtocol::new("/test/1");

    fn codec(max: usize) -> BytesCodec {
        BytesCodec {
            max_request: max,
            max_response: max,
            counters: Arc::default(),
        }
    }

    #[test]
    fn round_trips_and_bounds_both_ways() {
        block_on(async {
            let mut c = codec(8);
            let mut wire = Cursor::new(Vec::new());
            c.write_request(&P, &mut wire, b"12345678".to_vec())
                .await
                .unwrap();
            wire.set_position(0);
            assert_eq!(c.read_request(&P, &mut wire).await.unwrap(), b"12345678");

            let mut wire = Cursor::new(Vec::new());
            let err = c
                .write_request(&P, &mut wire, vec![0; 9])
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);

            // A peer announcing a huge length is refused before allocation.
            let mut wire = Cursor::new(u32::MAX.to_be_bytes().to_vec());
            let err = c.read_response(&P, &mut wire).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            let rejected = &c.counters.rejected_messages;
            assert_eq!(rejected.load(std::sync::atomic::Ordering::Relaxed), 1);

            // Truncated input is an error, not a hang or a panic.
            let mut wire = Cursor::new(vec![0, 0, 0, 5, 1, 2]);
            assert!(c.read_request(&P, &mut wire).await.is_err());
        });
    }
}
