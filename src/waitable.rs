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
/// A reference to a waitable is waitable too, so a `Vec<&Future<_, _>>` or a
/// `Vec<&dyn Waitable>` is waited on through `&vec`:
///
/// ```
/// use forthcoming::{Waitable, promise, wait_any};
/// let (pa, fa) = promise::<u8, ()>();
/// let (pb, fb) = promise::<String, ()>();
/// pa.set_result(1);
/// let rest: Vec<&forthcoming::Future<u8, ()>> = vec![&fa];
/// assert_eq!(wait_any(&rest), Some(0));
/// let all: Vec<&dyn Waitable> = vec![&fb, &fa];
/// assert_eq!(wait_any(&all), Some(1));
/// # drop(pb);
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
    ///
    /// ```
    /// use forthcoming::Waitable;
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// assert!(!future.is_done());
    /// promise.set_result(1);
    /// assert!(future.is_done());
    /// ```
    fn is_done(&self) -> bool {
        self.wait_list().state().is_complete()
    }
}

impl<W: Waitable + ?Sized> Waitable for &W {}

pub(crate) mod sealed {
    use crate::list::WaitList;

    /// Gives the crate access to a waitable's state word. (`pub` only so it
    /// can bound the public trait; it is not nameable outside the crate.)
    #[allow(unreachable_pub)]
    pub trait Sealed {
        /// The state word and waiter list to register on.
        fn wait_list(&self) -> &WaitList;
    }

    impl<W: super::Waitable + ?Sized> Sealed for &W {
        fn wait_list(&self) -> &WaitList {
            (**self).wait_list()
        }
    }
}

/// The wait list of any waitable, for the crate's group waits.
pub(crate) fn wait_list_of<W: Waitable + ?Sized>(waitable: &W) -> &WaitList {
    waitable.wait_list()
}
