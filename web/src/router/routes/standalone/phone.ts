import type { RouteRecordRaw } from 'vue-router'

// phone pages (390×844): no admin layout, no Element Plus styles, no charts
const routes: RouteRecordRaw[] = [
  {
    path: '/resident',
    name: 'resident',
    component: () => import('@/views/resident/index.vue'),
    meta: { title: 'resident.title', public: true },
  },
  {
    path: '/grid',
    name: 'grid-worker',
    component: () => import('@/views/grid/index.vue'),
    meta: { title: 'menu.gridWorker', icon: 'phone', order: 5, authority: ['event:create'], menu: true },
  },
]
export default routes
