//! The object-safe trait through which futures of any `T`/`E` are waited on
//! together.

use crate::list::WaitList;

/// Something the group waits ([`wait_any`](crate::wait_any),
/// [`wait_all`](crate::wait_all), [`wait`](crate::wait)) can wait on: every
/// [`Future<T, E>`](crate::Future), whatever `T` and `E`.
///
/// Object-safe, so futures of different types wait together:
///
/// ```
/// use forthcoming::{Waitable, promise, wait_any};
/// let (pa, fa) = promise::<u8, ()>();
/// let (pb, fb) = promise::<String, std::io::Error>();
/// pb.set_result("b".into());
/// assert_eq!(wait_any([&fa as &dyn Waitable, &fb]), Some(1));
/// # drop(pa);
/// ```
///
/// In a task that must be `Send` (`tokio::spawn`), a list kept across an
/// `.await` is spelled `&(dyn Waitable + Sync)`: a plain `&dyn Waitable`
/// may point to a future that is not `Sync`, so it is not `Send`.
///
/// The trait is sealed: registration is the crate's own protocol, so no type
/// outside the crate can implement it.
pub trait Waitable: sealed::Sealed {
    /// Whether the future is done. Never blocks.
    fn is_done(&self) -> bool {
        self.wait_list().state().is_complete()
    }
}

pub(crate) mod sealed {
    use crate::list::WaitList;

    /// Gives the crate access to a waitable's state word. (`pub` only so it
    /// can bound the public trait; it is not nameable outside the crate.)
    #[allow(unreachable_pub)]
    pub trait Sealed {
        /// The state word and waiter list to register on.
        fn wait_list(&self) -> &WaitList;
    }
}

/// The wait list of any waitable, for the crate's group waits.
pub(crate) fn wait_list_of<W: Waitable + ?Sized>(waitable: &W) -> &WaitList {
    waitable.wait_list()
}
